// Wharf's Swagger UI start-up: the document comes from this server.
(function () {
  'use strict';
  if (typeof window.SwaggerUIBundle !== 'function') {
    document.getElementById('missing').style.display = 'block';
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: '/api/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    docExpansion: 'list',
    filter: true,
    presets: [window.SwaggerUIBundle.presets.apis,
              window.SwaggerUIStandalonePreset],
    layout: 'BaseLayout'
  });
}());
