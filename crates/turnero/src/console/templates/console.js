// Progressive enhancement, and all the script the console has: every element marked
// data-live="URL" is refreshed from URL every few seconds (the server renders the same
// block it put in the page), so new messages appear without reloading. Without script the
// page still works; reloading shows the same.
(function () {
  var every = 3000;
  document.querySelectorAll('[data-live]').forEach(function (el) {
    var url = el.getAttribute('data-live');
    var last = el.innerHTML;
    setInterval(function () {
      if (document.hidden) return;
      fetch(url, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
        // A session that ended answers with the sign-in page: keep what is shown.
        .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
        .then(function (html) {
          if (html !== null && html !== last) { last = html; el.innerHTML = html; }
        })
        .catch(function () {});
    }, every);
  });
})();
