#!/usr/bin/env bash
# Publishes the GPU checker self-contained (linux-x64, single file, compressed, no ICU) into
# artifacts/gpu-checker/, ready to be carried to a GPU machine without the .NET SDK (the device
# tool carries at most 64 MiB; this is about 35 MiB). Run it here, before bench/gpu/run.sh there.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=artifacts/gpu-checker
rm -rf "$out"
dotnet publish bench/gpu/Checker/Checker.csproj -c Release -r linux-x64 --self-contained true \
  -p:PublishSingleFile=true -p:EnableCompressionInSingleFile=true -p:InvariantGlobalization=true \
  -p:PeftNativeSkipNativeBuild=true -p:DebugType=none -o "$out"
# The CPU library is not needed there (the checker's reference is managed) and run.sh builds
# libpeft_native_cuda on the GPU machine itself.
rm -f "$out"/libpeft_native*.so "$out"/*.pdb "$out"/*.xml
rm -rf "$out"/runtimes
du -sh "$out"
ls -la "$out"
