using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Xares.Broker.Api;
using Xares.Broker.CredentialHealth;
using Xares.Broker.Credentials;
using Xares.Broker.Hosting;
using Xares.Broker.Storage;

namespace Xares.Broker.WebUi.Pages.Credentials;

/// <summary>One credential: its details, test now, replace the secret. Another user's id answers 404, as over REST.</summary>
internal sealed class DetailsModel(Database database, CredentialWriter writer, CredentialTester tester, BrokerOptions options, TimeProvider time) : PageModel
{
    public CredentialResponse Credential { get; private set; } = null!;

    public CredentialTestResult? TestResult { get; private set; }

    public bool Replaced { get; private set; }

    [BindProperty]
    public string? NewSecret { get; set; }

    public Task<IActionResult> OnGetAsync(string id) => ShowAsync(id);

    public async Task<IActionResult> OnPostTestAsync(string id)
    {
        try
        {
            TestResult = await tester.TestAsync(id, HttpContext.Caller(), CredentialTester.TriggerApi, HttpContext.RemoteAddress(), HttpContext.RequestAborted);
        }
        catch (NotFoundException)
        {
            return NotFound();
        }
        return TestResult is null ? NotFound() : await ShowAsync(id);
    }

    public async Task<IActionResult> OnPostReplaceAsync(string id)
    {
        try
        {
            await writer.UpdateAsync(HttpContext.Caller(), id, new UpdateCredentialRequest(NewSecret ?? "", null, null, null, default, default, default, default),
                HttpContext.RemoteAddress());
            Replaced = true;
        }
        catch (ValidationException e)
        {
            ModelState.AddModelError(nameof(NewSecret), e.Errors.Values.SelectMany(m => m).FirstOrDefault() ?? e.Message);
        }
        catch (NotFoundException)
        {
            return NotFound();
        }
        return await ShowAsync(id);
    }

    private async Task<IActionResult> ShowAsync(string id)
    {
        try
        {
            Credential = await CredentialEndpoints.ReadOneAsync(database, HttpContext.Caller(), id, time.GetUtcNow(), options.CredentialExpiringWindow);
            return Page();
        }
        catch (NotFoundException)
        {
            return NotFound();
        }
    }
}
