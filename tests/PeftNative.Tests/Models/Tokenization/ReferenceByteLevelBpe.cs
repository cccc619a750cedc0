using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace PeftNative.Tests.Models.Tokenization;

/// <summary>
/// GPT-2's byte-level BPE written out plainly after openai/gpt-2 encoder.py (bytes_to_unicode,
/// the regex split, repeated merging of the lowest-ranked adjacent pair), as the oracle the
/// library's tokenizer is checked against.
/// </summary>
internal sealed class ReferenceByteLevelBpe
{
    private const string Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<(string, string), int> _ranks = [];
    private readonly string[] _byteToChar = new string[256];
    private readonly Dictionary<char, byte> _charToByte = [];

    public ReferenceByteLevelBpe(string vocabJson, string mergesTxt)
    {
        _vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabJson))!;
        int rank = 0;
        foreach (string line in File.ReadLines(mergesTxt).Skip(1))
        {
            if (line.Length == 0)
                continue;
            var parts = line.Split(' ');
            _ranks[(parts[0], parts[1])] = rank++;
        }
        // bytes_to_unicode: printable latin-1 bytes map to themselves, the rest to 256 + n.
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char)b : (char)(256 + n++);
            _byteToChar[b] = c.ToString();
            _charToByte[c] = (byte)b;
        }
    }

    public List<int> Encode(string text)
    {
        var ids = new List<int>();
        foreach (Match m in Regex.Matches(text, Pattern))
        {
            var word = Encoding.UTF8.GetBytes(m.Value).Select(b => _byteToChar[b]).ToList();
            while (word.Count > 1)
            {
                int best = -1, bestRank = int.MaxValue;
                for (int i = 0; i + 1 < word.Count; i++)
                {
                    if (_ranks.TryGetValue((word[i], word[i + 1]), out int r) && r < bestRank)
                    {
                        bestRank = r;
                        best = i;
                    }
                }
                if (best < 0)
                    break;
                var (a, b) = (word[best], word[best + 1]);
                var merged = new List<string>();
                for (int i = 0; i < word.Count; i++)
                {
                    if (i + 1 < word.Count && word[i] == a && word[i + 1] == b)
                    {
                        merged.Add(a + b);
                        i++;
                    }
                    else
                    {
                        merged.Add(word[i]);
                    }
                }
                word = merged;
            }
            ids.AddRange(word.Select(s => _vocab[s]));
        }
        return ids;
    }
}
