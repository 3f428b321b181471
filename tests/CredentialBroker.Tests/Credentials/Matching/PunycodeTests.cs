using System.Globalization;
using Xares.Broker.Credentials.Matching;
using Xares.GitTargets;

namespace Xares.Broker.Tests.Credentials.Matching;

public sealed class PunycodeTests
{
    [Theory]
    [InlineData("bücher", "bcher-kva")]
    [InlineData("münchen", "mnchen-3ya")]
    [InlineData("faß", "fa-hia")]
    [InlineData("例え", "r8jz45g")]
    [InlineData("テスト", "zckzah")]
    // RFC 3492 section 7.1 samples (A) Arabic and (B) simplified Chinese.
    [InlineData("\u0644\u064A\u0647\u0645\u0627\u0628\u062A\u0643\u0644\u0645\u0648\u0634\u0639\u0631\u0628\u064A\u061F", "egbpdaj6bu4bxfgehfvwxn")]
    [InlineData("\u4ED6\u4EEC\u4E3A\u4EC0\u4E48\u4E0D\u8BF4\u4E2D\u6587", "ihqwcrb4cv8a8dqg056pqjye")]
    public void Encode_KnownLabel_MatchesReference(string label, string expected) =>
        Assert.Equal(expected, Punycode.Encode(label));

    [Theory]
    [InlineData("bücher")]
    [InlineData("ελληνικά")]
    [InlineData("пример")]
    [InlineData("日本語")]
    [InlineData("a\U00020000b")]
    public void Encode_LowercaseLabel_AgreesWithIdnMapping(string label) =>
        Assert.Equal(new IdnMapping().GetAscii(label), "xn--" + Punycode.Encode(label));
}
