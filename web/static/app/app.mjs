// Enhancements only: every page works without JavaScript.
import { initAll } from "/static/vendor/govuk-frontend.min.js";

initAll();
