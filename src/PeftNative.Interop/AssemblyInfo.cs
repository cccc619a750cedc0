using System.Runtime.CompilerServices;

// Every signature in this assembly is blittable; the generator emits no marshalling code.
[assembly: DisableRuntimeMarshalling]
