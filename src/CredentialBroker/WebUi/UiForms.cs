using Microsoft.AspNetCore.Mvc.ModelBinding;
using Xares.Broker.Api;

namespace Xares.Broker.WebUi;

internal static class UiForms
{
    /// <summary>The services' per-field validation errors, shown next to the form (the REST problem's `errors` member).</summary>
    public static void AddErrors(ModelStateDictionary state, ValidationException e, string prefix)
    {
        if (e.Errors.Count == 0)
        {
            state.AddModelError(string.Empty, e.Message);
            return;
        }
        foreach (var (field, messages) in e.Errors)
        {
            foreach (var message in messages)
            {
                state.AddModelError($"{prefix}.{char.ToUpperInvariant(field[0])}{field[1..]}", message);
            }
        }
    }
}
