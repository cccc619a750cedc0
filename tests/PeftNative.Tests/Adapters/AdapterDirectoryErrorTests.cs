using PeftNative.Adapters;

namespace PeftNative.Tests.Adapters;

/// <summary>Adapter directories that are not usable, refused before any weights are read.</summary>
[TestFixture]
public class AdapterDirectoryErrorTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("peftnative-adapter-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private const string ValidConfig = """{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj"]}""";

    [Test]
    public void MissingDirectory_NamesPath()
    {
        string missing = Path.Combine(_dir, "nope");
        var e = Assert.Throws<DirectoryNotFoundException>(() => PeftAdapter.Load(missing))!;
        Assert.That(e.Message, Does.Contain(missing));
    }

    [Test]
    public void MissingConfig_NamesDirectory_AndSubfolderAdapters()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "task_a"));
        File.WriteAllText(Path.Combine(_dir, "task_a", AdapterFiles.Config), ValidConfig);
        var e = Assert.Throws<AdapterFormatException>(() => PeftAdapter.Load(_dir))!;
        Assert.That(e.FilePath, Is.EqualTo(_dir));
        Assert.That(e.Message, Does.Contain("no adapter_config.json").And.Contain("subfolders: task_a"));
    }

    [Test]
    public void PickleOnly_SaysHowToConvert()
    {
        File.WriteAllText(Path.Combine(_dir, AdapterFiles.Config), ValidConfig);
        File.WriteAllBytes(Path.Combine(_dir, AdapterFiles.Pickle), [0x80, 0x02]);
        var e = Assert.Throws<AdapterFormatException>(() => PeftAdapter.Load(_dir))!;
        Assert.That(e.FilePath, Is.EqualTo(Path.Combine(_dir, AdapterFiles.Pickle)));
        Assert.That(e.Message, Does.Contain("pickle").And.Contain("safe_serialization=True"));
    }

    [Test]
    public void MissingWeights()
    {
        File.WriteAllText(Path.Combine(_dir, AdapterFiles.Config), ValidConfig);
        var e = Assert.Throws<AdapterFormatException>(() => PeftAdapter.Load(_dir))!;
        Assert.That(e.Message, Does.Contain("no adapter_model.safetensors"));
    }

    [Test]
    public void BadConfig_NamesConfigFile()
    {
        File.WriteAllText(Path.Combine(_dir, AdapterFiles.Config), """{"peft_type": "LORA", "r": 0, "target_modules": ["q"]}""");
        var e = Assert.Throws<AdapterFormatException>(() => PeftAdapter.Load(Path.Combine(_dir, AdapterFiles.Config)))!;
        Assert.That(e.FilePath, Is.EqualTo(Path.Combine(_dir, AdapterFiles.Config)));
        Assert.That(e.Key, Is.EqualTo("r"));
    }
}
