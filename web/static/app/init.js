// Marks the page as having JavaScript, as GOV.UK Frontend's page template does inline
// (the Content-Security-Policy here allows scripts from files only).
document.body.className +=
  " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
