(function () {
  "use strict";
  // Hover tooltips: any element with data-tip; its <title> is dropped so the browser's own tip does not double it.
  var tip = document.getElementById("tip");
  var tipped = document.querySelectorAll("[data-tip]");
  for (var i = 0; i < tipped.length; i++) {
    var t = tipped[i].querySelector("title");
    if (t && t.parentNode === tipped[i]) { tipped[i].removeChild(t); }
  }
  function place(ev) {
    var x = ev.clientX + 14, y = ev.clientY + 14;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    if (x + w > window.innerWidth - 8) { x = Math.max(8, ev.clientX - w - 14); }
    if (y + h > window.innerHeight - 8) { y = Math.max(8, ev.clientY - h - 14); }
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  }
  function target(ev) {
    var el = ev.target;
    return el && el.closest ? el.closest("[data-tip]") : null;
  }
  if (tip) {
    document.addEventListener("mouseover", function (ev) {
      var el = target(ev);
      if (!el || !el.getAttribute("data-tip")) { tip.hidden = true; return; }
      tip.textContent = el.getAttribute("data-tip");
      tip.hidden = false;
      place(ev);
    });
    document.addEventListener("mousemove", function (ev) { if (!tip.hidden) { place(ev); } });
    document.addEventListener("mouseout", function (ev) {
      if (!ev.relatedTarget || !target({ target: ev.relatedTarget })) { tip.hidden = true; }
    });
  }

  // Table sorting: click a header; numeric columns sort on the cell's data-v, empty cells always last.
  function sortTable(table, col, type, dir) {
    var body = table.tBodies[0];
    if (!body) { return; }
    var rows = Array.prototype.slice.call(body.rows);
    if (rows.length < 2) { return; }
    rows.sort(function (a, b) {
      var ca = a.cells[col], cb = b.cells[col];
      if (!ca || !cb) { return 0; }
      var va, vb;
      if (type === "num") {
        va = ca.hasAttribute("data-v") ? parseFloat(ca.getAttribute("data-v")) : NaN;
        vb = cb.hasAttribute("data-v") ? parseFloat(cb.getAttribute("data-v")) : NaN;
        if (isNaN(va) || isNaN(vb)) { return isNaN(va) ? (isNaN(vb) ? 0 : 1) : -1; }
        return dir * (va - vb);
      }
      va = ca.textContent.trim(); vb = cb.textContent.trim();
      if (!va || va === "\u2014" || !vb || vb === "\u2014") { return (!va || va === "\u2014") ? 1 : -1; }
      return dir * va.localeCompare(vb, undefined, { numeric: true, sensitivity: "base" });
    });
    for (var k = 0; k < rows.length; k++) { body.appendChild(rows[k]); }
  }
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, col) {
      th.addEventListener("click", function () {
        var dir = th.classList.contains("sort-desc") ? 1 : (th.classList.contains("sort-asc") ? -1 : (th.getAttribute("data-type") === "num" ? -1 : 1));
        Array.prototype.forEach.call(heads, function (h) { h.classList.remove("sort-asc", "sort-desc"); });
        th.classList.add(dir === 1 ? "sort-asc" : "sort-desc");
        sortTable(table, col, th.getAttribute("data-type"), dir);
      });
    });
  });
})();
