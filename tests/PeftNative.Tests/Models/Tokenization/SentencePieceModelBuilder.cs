using System.Text;

namespace PeftNative.Tests.Models.Tokenization;

/// <summary>
/// Writes a tiny SentencePiece ModelProto (sentencepiece_model.proto) by hand: pieces with scores
/// and types, a trainer_spec with the model type and special ids, a normalizer_spec. No fixture
/// ships a tokenizer.model, so the tests build one.
/// </summary>
internal sealed class SentencePieceModelBuilder
{
    public const int Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Byte = 6;
    public const int Unigram = 1, Bpe = 2;

    private readonly List<(string Piece, float Score, int Type)> _pieces = [];

    public int ModelType { get; init; } = Bpe;

    public bool AddDummyPrefix { get; init; } = true;

    public IReadOnlyList<(string Piece, float Score, int Type)> Pieces => _pieces;

    public SentencePieceModelBuilder Add(string piece, float score, int type = Normal)
    {
        _pieces.Add((piece, score, type));
        return this;
    }

    public int IdOf(string piece) => _pieces.FindIndex(p => p.Piece == piece);

    public byte[] Build()
    {
        var model = new MemoryStream();
        foreach (var (piece, score, type) in _pieces)
        {
            var p = new MemoryStream();
            WriteString(p, 1, piece);
            WriteFloat(p, 2, score);
            WriteVarintField(p, 3, (ulong)type);
            WriteBytes(model, 1, p.ToArray());
        }
        var trainer = new MemoryStream();
        WriteVarintField(trainer, 3, (ulong)ModelType);
        WriteVarintField(trainer, 4, (ulong)_pieces.Count);
        WriteVarintField(trainer, 40, (ulong)IdOf("<unk>"));
        WriteVarintField(trainer, 41, (ulong)IdOf("<s>"));
        WriteVarintField(trainer, 42, (ulong)IdOf("</s>"));
        WriteVarintField(trainer, 43, unchecked((ulong)-1L)); // pad_id = -1: none
        WriteBytes(model, 2, trainer.ToArray());
        var normalizer = new MemoryStream();
        WriteString(normalizer, 1, "identity");
        WriteVarintField(normalizer, 3, AddDummyPrefix ? 1UL : 0UL);
        WriteVarintField(normalizer, 4, 0);
        WriteVarintField(normalizer, 5, 1);
        WriteBytes(model, 3, normalizer.ToArray());
        return model.ToArray();
    }

    private static void WriteVarint(Stream s, ulong v)
    {
        while (v >= 0x80)
        {
            s.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        s.WriteByte((byte)v);
    }

    private static void WriteVarintField(Stream s, int field, ulong v)
    {
        WriteVarint(s, (ulong)(field << 3));
        WriteVarint(s, v);
    }

    private static void WriteFloat(Stream s, int field, float v)
    {
        WriteVarint(s, (ulong)((field << 3) | 5));
        s.Write(BitConverter.GetBytes(v));
    }

    private static void WriteBytes(Stream s, int field, byte[] bytes)
    {
        WriteVarint(s, (ulong)((field << 3) | 2));
        WriteVarint(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    private static void WriteString(Stream s, int field, string text) => WriteBytes(s, field, Encoding.UTF8.GetBytes(text));
}
