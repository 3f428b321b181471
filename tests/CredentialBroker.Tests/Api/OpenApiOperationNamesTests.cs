using Xares.Broker.Api;

namespace Xares.Broker.Tests.Api;

public sealed class OpenApiOperationNamesTests
{
    [Theory]
    [InlineData("GET", "api/v1/users", "listUsers", "Users")]
    [InlineData("POST", "api/v1/users", "createUser", "Users")]
    [InlineData("GET", "api/v1/users/{id}", "getUser", "Users")]
    [InlineData("DELETE", "api/v1/users/{id}", "deleteUser", "Users")]
    [InlineData("POST", "api/v1/users/{userId}/credentials", "createUserCredential", "Credentials")]
    [InlineData("GET", "api/v1/users/{userId}/credentials", "listUserCredentials", "Credentials")]
    [InlineData("PATCH", "api/v1/credentials/{id}", "updateCredential", "Credentials")]
    [InlineData("POST", "api/v1/credentials/{id}/test", "testCredential", "Credentials")]
    [InlineData("POST", "api/v1/workspaces/", "createWorkspace", "Workspaces")]
    [InlineData("POST", "api/v1/workspaces/{id}/bootstrap", "bootstrapWorkspace", "Workspaces")]
    [InlineData("POST", "api/v1/api-keys/{id}/rotate", "rotateApiKey", "API keys")]
    [InlineData("GET", "api/v1/audit/verify", "verifyAudit", "Audit")]
    [InlineData("POST", "api/v1/audit/flags/{id}/ack", "ackAuditFlag", "Audit")]
    [InlineData("GET", "api/v1/github-apps/{id}/installations", "listGitHubAppInstallations", "GitHub Apps")]
    [InlineData("POST", "api/v1/oauth-providers/", "createOAuthProvider", "OAuth providers")]
    [InlineData("GET", "healthz", "getHealth", "Service")]
    [InlineData("GET", "readyz", "getReadiness", "Service")]
    public void Of_MethodAndRoute_StableIdAndResourceTag(string method, string route, string operationId, string tag) =>
        Assert.Equal((operationId, tag), OpenApiOperationNames.Of(method, route));

    [Theory]
    [InlineData("POST", "/api/v1/users", true)]
    [InlineData("POST", "/api/v1/users/{userId}/connections", true)]
    [InlineData("POST", "/api/v1/api-keys/{id}/rotate", false)]
    [InlineData("POST", "/api/v1/workspaces/{id}/bootstrap", false)]
    [InlineData("GET", "/api/v1/users", false)]
    public void IsCreate_OnlyPostsIntoACollection(string method, string route, bool expected) =>
        Assert.Equal(expected, OpenApiOperationNames.IsCreate(method, route));
}
