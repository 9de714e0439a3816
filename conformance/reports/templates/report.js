(function () {
  "use strict";
  // Filters for the case table, driven by the URL fragment (#verdict=fail,warn&level=MUST&q=text
  // &req=<requirement>&ts=<transport-stream>) so a filtered view can be linked. Rows are hidden
  // with the `hidden` attribute; without this script every row stays visible.
  var form = document.getElementById("filters");
  var shown = document.getElementById("shown");
  var state = document.getElementById("filter-state");
  var cases = Array.prototype.slice.call(document.querySelectorAll("tbody.case"));
  var texts = cases.map(function (tb) { return tb.textContent.toLowerCase(); });

  function parse(hash) {
    var raw = (hash || "").replace(/^#/, "");
    if (raw.indexOf("=") < 0) { return null; }
    var params = new URLSearchParams(raw);
    var verdicts = [];
    params.getAll("verdict").forEach(function (value) {
      value.split(",").forEach(function (v) { if (v) { verdicts.push(v); } });
    });
    return {
      verdict: verdicts,
      level: params.get("level") || "",
      q: (params.get("q") || "").trim(),
      req: params.get("req") || "",
      ts: params.get("ts") || ""
    };
  }

  function serialise(f) {
    var params = new URLSearchParams();
    if (f.verdict.length) { params.set("verdict", f.verdict.join(",")); }
    ["level", "q", "req", "ts"].forEach(function (k) { if (f[k]) { params.set(k, f[k]); } });
    return params.toString();
  }

  function matches(i, f) {
    var tb = cases[i];
    if (f.verdict.length && f.verdict.indexOf(tb.getAttribute("data-verdict")) < 0) { return false; }
    if (f.level && tb.getAttribute("data-level") !== f.level) { return false; }
    if (f.req && tb.getAttribute("data-req") !== f.req) { return false; }
    if (f.ts && tb.getAttribute("data-ts") !== f.ts) { return false; }
    return !f.q || texts[i].indexOf(f.q.toLowerCase()) >= 0;
  }

  function sync(f) {
    var boxes = form.querySelectorAll("input[name=verdict]");
    Array.prototype.forEach.call(boxes, function (box) {
      box.checked = !!f && f.verdict.indexOf(box.value) >= 0;
    });
    form.elements.level.value = f ? f.level : "";
    if (document.activeElement !== form.elements.q) { form.elements.q.value = f ? f.q : ""; }
  }

  function apply(f) {
    var count = 0;
    var active = f && serialise(f) ? f : null;
    cases.forEach(function (tb, i) {
      var ok = !active || matches(i, active);
      if (ok) { tb.removeAttribute("hidden"); count += 1; } else { tb.setAttribute("hidden", ""); }
    });
    var described = active ? serialise(active) : "";
    document.body.setAttribute("data-filter", described);
    document.body.setAttribute("data-shown", String(count));
    shown.textContent = count + " of " + cases.length + " shown";
    state.textContent = active ? "filter: " + decodeURIComponent(described.replace(/\+/g, " ")) : "";
    sync(active);
    // The case list is collapsed on long reports: a filter or a link to a case opens it.
    var list = document.getElementById("cases-list");
    var target = location.hash.length > 1 ? document.getElementById(location.hash.slice(1)) : null;
    if (list && (active || (target && list.contains(target)))) { list.open = true; }
  }

  function fromForm() {
    var verdicts = [];
    Array.prototype.forEach.call(form.querySelectorAll("input[name=verdict]"), function (box) {
      if (box.checked) { verdicts.push(box.value); }
    });
    var current = parse(location.hash) || {};
    return {
      verdict: verdicts,
      level: form.elements.level.value,
      q: form.elements.q.value.trim(),
      req: current.req || "",
      ts: current.ts || ""
    };
  }

  function update() {
    var f = fromForm();
    var hash = serialise(f);
    history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
    apply(f);
  }

  form.addEventListener("change", update);
  form.addEventListener("input", update);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  document.getElementById("clear").addEventListener("click", function () {
    history.replaceState(null, "", location.pathname + location.search);
    apply(null);
  });
  window.addEventListener("hashchange", function () {
    var f = parse(location.hash);
    apply(f);
    var target = f ? document.getElementById("cases") : document.getElementById(location.hash.slice(1));
    if (target) { target.scrollIntoView(); }
  });
  form.hidden = false;
  apply(parse(location.hash));
}());
