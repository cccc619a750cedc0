using System.Globalization;
using PeftNative.Adapters;

namespace PeftNative.Tests.Adapters;

/// <summary>
/// The writer behind adapter_config.json against Python itself: every expected string below was
/// produced by CPython 3 <c>json.dumps(json.loads(input), indent=2, sort_keys=True)</c> and
/// <c>repr(float)</c>, not by this code.
/// </summary>
[TestFixture]
public class PythonJsonTests
{
    private static readonly (string Input, string Expected)[] Documents =
    [
        (
            "{\"b\": 1, \"a\": [1, 2.5, 1e-05, 1E5, 0.0001, 1e16, 1e15, 123456789.123, -0.0, 3.0, 100, -7], \"c\": {}, \"d\": [], \"e\": null, \"f\": true}",
            "{\n  \"a\": [\n    1,\n    2.5,\n    1e-05,\n    100000.0,\n    0.0001,\n    1e+16,\n    1000000000000000.0,\n    123456789.123,\n    -0.0,\n    3.0,\n    100,\n    -7\n  ],\n  \"b\": 1,\n  \"c\": {},\n  \"d\": [],\n  \"e\": null,\n  \"f\": true\n}"
        ),
        (
            // Non-ASCII is escaped; keys sort by code point (U+FFFF before U+1F600, unlike UTF-16 order).
            "{\"name\": \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\n\\t\\u0001\\u007f /\", \"\\ud83d\\ude00\": 1, \"\\uffff\": 2, \"Z\": 3, \"a\": 4}",
            "{\n  \"Z\": 3,\n  \"a\": 4,\n  \"name\": \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\n\\t\\u0001\\u007f /\",\n  \"\\uffff\": 2,\n  \"\\ud83d\\ude00\": 1\n}"
        ),
        (
            "{\"nested\": {\"z\": {\"y\": [ {\"b\": 2, \"a\": 1} ]}, \"a\": 0.1}, \"big\": 123456789012345678901234567890, \"neg\": -1.5e-300, \"e\": 2.5e+20, \"x\": 5e-324}",
            "{\n  \"big\": 123456789012345678901234567890,\n  \"e\": 2.5e+20,\n  \"neg\": -1.5e-300,\n  \"nested\": {\n    \"a\": 0.1,\n    \"z\": {\n      \"y\": [\n        {\n          \"a\": 1,\n          \"b\": 2\n        }\n      ]\n    }\n  },\n  \"x\": 5e-324\n}"
        ),
    ];

    // repr(float) of fixed edge values and of random bit patterns and magnitudes (seed 7).
    private static readonly string[] PythonReprs =
    [
        "0.30000000000000004", "9007199254740992.0", "9.223372036854776e+18", "5e-324", "1.7976931348623157e+308", "1.23e-05",
        "1e+16", "0.0001", "9.9999e-05", "0.5", "0.3333333333333333", "6.666666666666667e-11", "6.02214076e+23", "1.0", "10.0",
        "1e+22", "1.5", "12345.678", "0.001", "1e-07", "31.999999999999996", "-1.989032661366619e+244", "7.761117632285041e+178",
        "3.980498358697587e-249", "-1.5432835417340557e+88", "1.3647584518757569e-192", "-1.3701135617873088e-206",
        "-1.7160537630466207e+197", "6.294675241195386e-44", "1.0613447212142254e-202", "4.708325160387546e+207",
        "6.387016158513563e-12", "-9.973130378568733e-246", "8.779753225680271e-236", "-5.795503248498993e-228",
        "-5.988180159386011e+243", "-1.306052388527796e-147", "-2.436117699484841e-206", "2.233386999150174e-232",
        "-3.51527970626667e-203", "1.5987381841032883e-247", "4.6678633181812096e-36", "-8.441872792105456e-239",
        "1.9015657400796622e-144", "7.370437700706684e+208", "-1.7163996725272777e-258", "-7.644155238432633",
        "1205145540256.254", "-6385472401.521251", "0.001424087828235845", "-255204914.54853755", "4242215314.9230723",
        "-0.008807976600675347", "-7171009.773016434", "-14.481538866119426", "-68796.268320652",
    ];

    [Test]
    public void Serialize_MatchesPythonJsonDumps()
    {
        foreach (var (input, expected) in Documents)
            Assert.That(PythonJson.Serialize(PythonJson.Parse(input)), Is.EqualTo(expected), input);
    }

    [Test]
    public void FormatFloat_MatchesPythonRepr()
    {
        foreach (string repr in PythonReprs)
        {
            double d = double.Parse(repr, NumberStyles.Float, CultureInfo.InvariantCulture);
            Assert.That(PythonJson.FormatFloat(d), Is.EqualTo(repr));
        }
        Assert.That(PythonJson.FormatFloat(0.0), Is.EqualTo("0.0"));
        Assert.That(PythonJson.FormatFloat(-0.0), Is.EqualTo("-0.0"));
        Assert.That(PythonJson.FormatFloat(double.PositiveInfinity), Is.EqualTo("Infinity"));
        Assert.That(PythonJson.FormatFloat(double.NaN), Is.EqualTo("NaN"));
    }

    [Test]
    public void FormatNumber_IntegerTextStaysInteger()
    {
        Assert.That(PythonJson.FormatNumber("-0"), Is.EqualTo("0"));
        Assert.That(PythonJson.FormatNumber("16"), Is.EqualTo("16"));
        Assert.That(PythonJson.FormatNumber("16.0"), Is.EqualTo("16.0"));
        Assert.That(PythonJson.FormatNumber("1E400"), Is.EqualTo("Infinity"), "json.loads gives inf, json.dumps writes Infinity");
    }

    [Test]
    public void Parse_RefusesDuplicateKeys() =>
        Assert.Throws<System.Text.Json.JsonException>(() => PythonJson.Parse("{\"a\": 1, \"a\": 2}"));
}
