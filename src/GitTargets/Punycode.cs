using System.Text;

namespace Xares.GitTargets;

/// <summary>
/// RFC 3492 encoder for one host label. Written out instead of using IdnMapping because that
/// type changes behaviour with the globalization mode (ICU applies UTS #46 mapping, invariant
/// mode does not), and a canonical host must never change under a stored ciphertext.
/// </summary>
public static class Punycode
{
    private const int Base = 36;
    private const int TMin = 1;
    private const int TMax = 26;
    private const int Skew = 38;
    private const int Damp = 700;
    private const int InitialBias = 72;
    private const int InitialN = 0x80;

    /// <summary>Encodes the code points of <paramref name="label"/>, without the "xn--" prefix.</summary>
    public static string Encode(string label)
    {
        var codePoints = new List<int>();
        foreach (var rune in label.EnumerateRunes())
        {
            codePoints.Add(rune.Value);
        }

        var output = new StringBuilder();
        foreach (var c in codePoints)
        {
            if (c < InitialN)
            {
                output.Append((char)c);
            }
        }

        var basicCount = output.Length;
        var handled = basicCount;
        if (basicCount > 0)
        {
            output.Append('-');
        }

        var n = InitialN;
        var bias = InitialBias;
        long delta = 0;
        while (handled < codePoints.Count)
        {
            var m = codePoints.Where(c => c >= n).Min();
            delta += (long)(m - n) * (handled + 1);
            n = m;
            foreach (var c in codePoints)
            {
                if (c < n)
                {
                    delta++;
                }
                else if (c == n)
                {
                    AppendVariableLengthInteger(output, delta, bias);
                    bias = Adapt(delta, handled + 1, handled == basicCount);
                    delta = 0;
                    handled++;
                }
            }

            delta++;
            n++;
        }

        return output.ToString();
    }

    private static void AppendVariableLengthInteger(StringBuilder output, long value, int bias)
    {
        var q = value;
        for (var k = Base; ; k += Base)
        {
            var t = k <= bias ? TMin : k >= bias + TMax ? TMax : k - bias;
            if (q < t)
            {
                break;
            }

            output.Append(Digit((int)(t + ((q - t) % (Base - t)))));
            q = (q - t) / (Base - t);
        }

        output.Append(Digit((int)q));
    }

    private static int Adapt(long delta, int pointCount, bool first)
    {
        delta = first ? delta / Damp : delta / 2;
        delta += delta / pointCount;
        var k = 0;
        while (delta > ((Base - TMin) * TMax) / 2)
        {
            delta /= Base - TMin;
            k += Base;
        }

        return (int)(k + ((Base - TMin + 1) * delta / (delta + Skew)));
    }

    private static char Digit(int d) => (char)(d < 26 ? 'a' + d : '0' + (d - 26));
}
