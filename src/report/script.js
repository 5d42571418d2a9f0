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
  function sortBy(col, th) {
    var desc = th.getAttribute("aria-sort") === "ascending";
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
    th.addEventListener("click", function () { sortBy(i, th); });
  });
  ["stage", "sweep", "state"].forEach(function (k) {
    var s = document.getElementById("f-" + k);
    if (s) s.addEventListener("change", filter);
  });
  // index.html#stage=S&sweep=W&state=T opens with those filters set.
  location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
    var i = kv.indexOf("="), s = document.getElementById("f-" + kv.slice(0, i));
    if (i > 0 && s) s.value = decodeURIComponent(kv.slice(i + 1));
  });
  filter();
  document.body.setAttribute("data-script", "ran");
})();
