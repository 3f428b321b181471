using Xares.Broker.Api.Preconditions;
using Xares.Broker.Storage;

namespace Xares.Broker.Tests.Api.Preconditions;

public sealed class EntityTagsTests
{
    [Fact]
    public void For_SameRowAndVersion_SameStrongQuotedTag()
    {
        var tag = EntityTags.For(VersionedTable.Credentials, "cred_1", 3);
        Assert.Equal(tag, EntityTags.For(VersionedTable.Credentials, "cred_1", 3));
        Assert.Matches("^\"[A-Za-z0-9_-]{20}\"$", tag);
    }

    [Fact]
    public void For_AnotherVersionRowOrTable_AnotherTag()
    {
        var tag = EntityTags.For(VersionedTable.Credentials, "cred_1", 3);
        Assert.NotEqual(tag, EntityTags.For(VersionedTable.Credentials, "cred_1", 4));
        Assert.NotEqual(tag, EntityTags.For(VersionedTable.Credentials, "cred_2", 3));
        Assert.NotEqual(tag, EntityTags.For(VersionedTable.Workspaces, "cred_1", 3));
    }

    [Fact]
    public void IfMatch_CurrentTagInAList_Matches()
    {
        var current = EntityTags.For(VersionedTable.Users, "usr_1", 1);
        Assert.True(EntityTags.IfMatch(current, current));
        Assert.True(EntityTags.IfMatch($"\"other\", {current}", current));
    }

    [Fact]
    public void IfMatch_Star_MatchesAnExistingResourceOnly()
    {
        Assert.True(EntityTags.IfMatch("*", EntityTags.For(VersionedTable.Users, "usr_1", 1)));
        Assert.False(EntityTags.IfMatch("*", null));
    }

    [Theory]
    [InlineData("\"stale\"")]
    [InlineData("garbage")]
    [InlineData("\"unterminated")]
    [InlineData("")]
    public void IfMatch_StaleOrMalformed_DoesNotMatch(string header) =>
        Assert.False(EntityTags.IfMatch(header, EntityTags.For(VersionedTable.Users, "usr_1", 1)));

    [Fact]
    public void IfMatch_WeakFormOfTheCurrentTag_DoesNotMatch()
    {
        var current = EntityTags.For(VersionedTable.Users, "usr_1", 1);
        Assert.False(EntityTags.IfMatch("W/" + current, current));
    }

    [Fact]
    public void IfNoneMatch_WeakComparison_MatchesWeakFormAndStar()
    {
        var current = EntityTags.For(VersionedTable.Users, "usr_1", 1);
        Assert.True(EntityTags.IfNoneMatch("W/" + current, current));
        Assert.True(EntityTags.IfNoneMatch("*", current));
        Assert.False(EntityTags.IfNoneMatch("\"other\"", current));
    }
}
