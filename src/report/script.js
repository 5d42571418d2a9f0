(function () {
  var table = document.getElementById("runs");
  if (!table) return;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var shown = document.getElementById("shown");
  function filter() {
    var want = {};
    ["stage", "sweep", "state"].forEach(function (k) {
      var s = document.getElementById("f-" + k);
      want[k] = s ? s.value : "";
    });
    var n = 0;
    rows.forEach(function (r) {
      var ok = ["stage", "sweep", "state"].every(function (k) {
        return want[k] === "" || r.getAttribute("data-" + k) === want[k];
      });
      r.hidden = !ok;
      if (ok) n++;
    });
    if (shown) shown.textContent = String(n);
  }
  function sortBy(col, th, desc) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) {
      c.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", desc ? "descending" : "ascending");
    var key = function (r) {
      var c = r.cells[col];
      return c ? c.getAttribute("data-v") || c.textContent : "";
    };
    rows.sort(function (a, b) {
      var x = key(a), y = key(b);
      var nx = x === "" ? NaN : Number(x), ny = y === "" ? NaN : Number(y);
      var c = (!isNaN(nx) && !isNaN(ny))
        ? nx - ny : (x < y ? -1 : x > y ? 1 : 0);
      return desc ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
    th.addEventListener("click", function () {
      sortBy(i, th, th.getAttribute("aria-sort") === "ascending");
    });
  });
  ["stage", "sweep", "state"].forEach(function (k) {
    var s = document.getElementById("f-" + k);
    if (s) s.addEventListener("change", filter);
  });
  // index.html#stage=S&sweep=W&state=T&sort=-COLUMN opens filtered and sorted
  // (a leading '-' sorts descending).
  location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
    var i = kv.indexOf("="), k = kv.slice(0, i), v = decodeURIComponent(kv.slice(i + 1));
    var s = document.getElementById("f-" + k);
    if (i > 0 && s) s.value = v;
    if (k === "sort") {
      var desc = v.charAt(0) === "-", name = desc ? v.slice(1) : v;
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, c) {
        if (th.textContent === name) sortBy(c, th, desc);
      });
    }
  });
  filter();
  document.body.setAttribute("data-script", "ran");
})();
