// The docs page's one script: Swagger UI on the API's own document, from the API's origin.
// No inline script (the page's content security policy allows scripts from 'self' only).
(function () {
  "use strict";
  // The page is <base>/v1/docs: <base> is "" on a custom domain or locally, "/<stage>" on
  // API Gateway's default endpoint. Requests of "Try it out" keep it.
  var page = window.location.pathname;
  var base = page.slice(0, page.lastIndexOf("/v1/docs"));
  window.ui = SwaggerUIBundle({
    url: base + "/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    displayRequestDuration: true,
    // Tokens live in this page only: nothing written to the browser's storage.
    persistAuthorization: false,
    // Swagger UI would otherwise ask validator.swagger.io to judge the document.
    validatorUrl: null,
    requestInterceptor: function (request) {
      var url = new URL(request.url, window.location.origin);
      if (base && url.origin === window.location.origin && url.pathname.indexOf(base + "/") !== 0) {
        url.pathname = base + url.pathname;
        request.url = url.toString();
      }
      return request;
    },
  });
})();
