// Progressive enhancement for the console: everything works without it.
// It keeps a page's timeline live by polling, and asks before a form
// marked data-confirm is sent.
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      e.preventDefault();
    }
  });
  var tl = document.getElementById("timeline");
  if (!tl || !tl.dataset.poll) {
    return;
  }
  var url = tl.dataset.poll;
  var last = tl.innerHTML;
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        if (html !== last) {
          last = html;
          tl.innerHTML = html;
          var st = document.getElementById("page-status");
          if (st && st.textContent.trim() !== "open") {
            ["ack", "escalate"].forEach(function (id) {
              var b = document.getElementById(id);
              if (b) { b.closest("form").remove(); }
            });
          }
          if (st && st.textContent.trim() === "resolved") {
            var res = document.getElementById("resolve");
            if (res) { res.closest("form").remove(); }
            return;
          }
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 10000); });
  }
  window.setTimeout(poll, 2000);
})();
