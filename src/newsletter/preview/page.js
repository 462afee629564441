// The preview page: fetch /state.json, show it, and fetch again whenever /events says the
// issue was rebuilt. No framework and no external requests (the server's CSP forbids both).
"use strict";

(function () {
  const KB = 1024;
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(window.location.search);
  let reader = params.get("subscriber") || "";
  let shown = "";          // "instance:version:reader" of what the page shows
  let frameUrl = "";
  let fetching = null;

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function kb(bytes) {
    return (bytes / KB).toFixed(1) + " KB";
  }

  function setStatus(text) {
    $("status").textContent = text;
  }

  async function refresh() {
    // One fetch at a time; a rebuild during a fetch asks for one more afterwards.
    if (fetching) { fetching.again = true; return; }
    fetching = { again: false };
    try {
      const query = reader ? "?subscriber=" + encodeURIComponent(reader) : "";
      const response = await fetch("/state.json" + query, { cache: "no-store" });
      if (!response.ok) throw new Error("the preview server answered " + response.status);
      render(await response.json());
    } catch (error) {
      setStatus("Cannot reach the preview server: " + error.message);
    } finally {
      const again = fetching.again;
      fetching = null;
      if (again) refresh();
    }
  }

  function render(state) {
    shown = state.instance + ":" + state.version + ":" + state.reader;
    reader = state.reader;
    $("issue").textContent = state.issue ? "· " + state.issue : "";
    renderReaders(state);
    const time = new Date(state.builtAt * 1000).toLocaleTimeString();
    if (state.problem) {
      renderProblem(state.problem);
      setStatus("Rebuild failed at " + time + " (" + Math.round(state.elapsedMs) + " ms).");
      document.body.dataset.state = "problem";
    } else {
      renderMessage(state);
      setStatus("Rebuilt at " + time + " in " + Math.round(state.elapsedMs) + " ms.");
      document.body.dataset.state = "ok";
    }
    document.body.dataset.version = String(state.version);
  }

  function renderReaders(state) {
    const select = $("reader");
    const wanted = state.readers.map((r) => r.email + "\u0000" + r.label).join("\u0001");
    if (select.dataset.options !== wanted) {
      select.replaceChildren(...state.readers.map((r) => {
        const option = el("option", r.label);
        option.value = r.email;
        return option;
      }));
      select.dataset.options = wanted;
    }
    select.value = state.reader;
    const notes = [];
    if (state.readersTotal > state.readers.length - 1) {
      notes.push("The list shows the first " + (state.readers.length - 1) + " of " + state.readersTotal +
        " subscribers; add ?subscriber=ADDRESS to the URL for any other.");
    }
    if (state.readersNote) notes.push(state.readersNote);
    $("reader-note").textContent = notes.join(" ");
    $("reader-note").hidden = notes.length === 0;
  }

  function renderProblem(problem) {
    $("preview").hidden = true;
    $("problem").hidden = false;
    $("problem").dataset.kind = problem.kind;
    $("problem-title").textContent = problem.title;
    $("problem-lines").textContent = problem.lines.join("\n");
    $("problem-detail").textContent = problem.detail;
    $("problem-detail-box").hidden = !problem.detail;
    $("subject").textContent = problem.title;
    $("eml").hidden = true;
  }

  function renderMessage(state) {
    const message = state.message;
    $("problem").hidden = true;
    $("preview").hidden = false;
    $("subject").textContent = message.subject;
    document.title = message.subject + " · preview";
    $("eml").href = message.emlUrl;
    $("eml").hidden = false;

    const errors = state.findings.filter((f) => f.level === "error");
    const warnings = state.findings.filter((f) => f.level !== "error");
    const item = (f) => {
      const li = el("li", undefined, "finding " + f.level);
      li.append(el("span", f.level, "level"), el("code", f.code), el("span", f.message, "message"));
      return li;
    };
    $("errors").replaceChildren(...errors.map(item));
    $("warnings").replaceChildren(...warnings.map(item));
    $("checks-summary").textContent = state.findings.length === 0 ? "No problems found." :
      errors.length + " error(s), " + warnings.length + " warning(s)";
    $("checks-summary").dataset.errors = String(errors.length);

    const meter = $("size-meter");
    meter.max = message.gmailLimit;
    meter.value = Math.min(message.htmlBytes, message.gmailLimit);
    $("size-text").textContent = "HTML part " + kb(message.htmlBytes) + " of Gmail's " + kb(message.gmailLimit) +
      " clipping limit; whole message " + kb(message.messageBytes) + " as sent.";

    const rows = message.headers.map(([name, value]) => {
      const tr = el("tr");
      tr.append(el("th", name), el("td", value));
      return tr;
    });
    $("headers").tBodies[0].replaceChildren(...rows);
    $("text-part").textContent = message.text;

    if (message.htmlUrl !== frameUrl) {
      frameUrl = message.htmlUrl;
      $("frame").src = message.htmlUrl;  // the old height stays until the new one is measured
    }
  }

  function fitFrame() {
    // The iframe takes its content's height, so the page scrolls rather than the frame and the
    // scroll position survives a reload; measured at height 0 so a narrower width can shrink it.
    const frame = $("frame");
    const doc = frame.contentDocument;
    if (!doc || !doc.documentElement) return;
    const keep = window.scrollY;
    frame.style.height = "0px";
    frame.style.height = doc.documentElement.scrollHeight + "px";
    window.scrollTo(0, keep);
  }

  function onFrameLoad() {
    const frame = $("frame");
    const doc = frame.contentDocument;
    fitFrame();
    if (!doc) return;
    for (const image of doc.images) {
      if (!image.complete) image.addEventListener("load", fitFrame, { once: true });
    }
    // Scripts never run inside the sandboxed newsletter; links open in a new tab from here.
    doc.addEventListener("click", (event) => {
      // The target belongs to the frame's realm, so `instanceof Element` would be false here.
      const target = event.target;
      const link = target && typeof target.closest === "function" ? target.closest("a[href]") : null;
      if (!link) return;
      event.preventDefault();
      window.open(link.href, "_blank", "noopener,noreferrer");
    });
    frame.dataset.loaded = frame.getAttribute("src") || "";
  }

  function setWidth(width) {
    $("frame-box").dataset.width = width;
    for (const button of document.querySelectorAll("[data-width]")) {
      if (button.tagName === "BUTTON") button.setAttribute("aria-pressed", String(button.dataset.width === width));
    }
    try { window.localStorage.setItem("preview-width", width); } catch (_) { /* private mode */ }
    fitFrame();
  }

  function showPart(part) {
    const html = part !== "text";
    $("tab-html").setAttribute("aria-selected", String(html));
    $("tab-text").setAttribute("aria-selected", String(!html));
    $("html-view").hidden = !html;
    $("text-view").hidden = html;
    if (html) fitFrame();
  }

  function connect() {
    const events = new EventSource("/events");
    events.addEventListener("open", () => { $("live").dataset.live = "on"; $("live").textContent = "live"; });
    events.addEventListener("error", () => {
      $("live").dataset.live = "off";
      $("live").textContent = "reconnecting";
    });
    events.addEventListener("rebuild", (event) => {
      const data = JSON.parse(event.data);
      if (data.instance + ":" + data.version + ":" + reader !== shown) refresh();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("frame").addEventListener("load", onFrameLoad);
    $("reader").addEventListener("change", (event) => {
      reader = event.target.value;
      const url = new URL(window.location.href);
      url.searchParams.set("subscriber", reader);
      window.history.replaceState(null, "", url);
      refresh();
    });
    for (const button of document.querySelectorAll("button[data-width]")) {
      button.addEventListener("click", () => setWidth(button.dataset.width));
    }
    $("tab-html").addEventListener("click", () => showPart("html"));
    $("tab-text").addEventListener("click", () => showPart("text"));
    window.addEventListener("resize", fitFrame);
    let width = "desktop";
    try { width = window.localStorage.getItem("preview-width") || "desktop"; } catch (_) { /* private mode */ }
    setWidth(width === "mobile" ? "mobile" : "desktop");
    refresh();
    connect();
  });
})();
