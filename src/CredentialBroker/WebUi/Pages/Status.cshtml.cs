using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Xares.Broker.WebUi.Pages;

/// <summary>
/// The page shown for an error status of a /ui request that wrote no body (a 404 for another user's
/// id, a 400 for a form without its anti-forgery token): re-executed by the status code pages of
/// /ui paths, for GET and POST alike, and keeping the original status code. It changes nothing, so
/// it needs no anti-forgery token of its own.
/// </summary>
[IgnoreAntiforgeryToken]
internal sealed class StatusModel : PageModel
{
    public int Code { get; private set; }

    public void OnGet(int code) => Code = code;

    public void OnPost(int code) => Code = code;
}
