// Results as you type: the search page fetches itself for the form's current values and swaps
// in the results region. Without JavaScript the form is an ordinary GET form; so is each URL.
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  var region = document.getElementById("results");
  var status = document.getElementById("search-status");
  if (!form || !region || !status || !window.fetch || !window.DOMParser) return;
  var DELAY = 300;
  var timer = null;
  var pending = null;
  var last = location.pathname + location.search;

  function target() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string" && value.trim() !== "") params.append(name, value);
    });
    if (params.get("sort") === "relevance") params.delete("sort");
    var query = params.toString();
    return form.getAttribute("action") + (query ? "?" + query : "");
  }

  function update() {
    if (!form.checkValidity()) return;
    var url = target();
    if (url === last) return;
    if (pending) pending.abort();
    pending = new AbortController();
    region.setAttribute("aria-busy", "true");
    fetch(url, { headers: { Accept: "text/html" }, signal: pending.signal })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (text) {
        var page = new DOMParser().parseFromString(text, "text/html");
        var fresh = page.getElementById("results");
        if (!fresh) return;
        region.innerHTML = fresh.innerHTML;
        region.setAttribute("data-status", fresh.getAttribute("data-status") || "");
        document.title = page.title;
        history.replaceState(null, "", url);
        last = url;
        status.textContent = fresh.getAttribute("data-status") || "";
      })
      .catch(function (error) {
        // A failed fetch leaves the page as it was; the form still submits normally.
        if (error.name !== "AbortError") status.textContent = "";
      })
      .finally(function () {
        region.removeAttribute("aria-busy");
      });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(update, DELAY);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
})();
