// Starts Swagger UI on /api/docs with the settings the page carries (no inline script).
"use strict";
const settings = JSON.parse(document.getElementById("swagger-settings").textContent);
window.ui = SwaggerUIBundle({
  ...settings,
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
});
