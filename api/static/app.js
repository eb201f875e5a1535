// Copy citation buttons, the "/" shortcut, and focus on the cited passage. No inline script: the page's CSP
// forbids it. Everything on the page works without this file.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  const text = button.dataset.citation || "";
  try {
    await navigator.clipboard.writeText(text);
  } catch (_err) {
    const field = button.closest("li").querySelector(".reference input");
    field.select();
    document.execCommand("copy");
  }
  button.textContent = button.dataset.done;
});
document.addEventListener("keydown", (event) => {
  const q = document.getElementById("q");
  if (event.key === "/" && q && document.activeElement !== q && !/INPUT|SELECT|TEXTAREA/.test(document.activeElement.tagName)) {
    event.preventDefault();
    q.focus();
  }
});
const target = location.hash && document.getElementById(location.hash.slice(1));
if (target) target.focus();
// The results come with the best sentences their words decide; the model's best sentences of the first hits
// follow: the same page with highlight=auto, from which each hit's snippet, passage and links are taken.
const results = document.getElementById("results");
if (results && results.dataset.upgrade) {
  fetch(results.dataset.upgrade, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.text() : null))
    .then((html) => {
      if (!html) return;
      const fresh = new DOMParser().parseFromString(html, "text/html");
      for (const item of fresh.querySelectorAll("li[data-chunk]")) {
        const old = results.querySelector(`li[data-chunk="${CSS.escape(item.dataset.chunk)}"]`);
        if (!old) continue;
        for (const sel of [":scope > p.snippet", ":scope > details.passage > p.full"]) {
          const a = old.querySelector(sel), b = item.querySelector(sel);
          if (a && b) a.replaceChildren(...Array.from(b.childNodes, (n) => document.importNode(n, true)));
        }
        for (const sel of [":scope > h3 a", ":scope > p.cite a", ":scope > p.actions a.context"]) {
          const a = old.querySelector(sel), b = item.querySelector(sel);
          if (a && b) a.setAttribute("href", b.getAttribute("href"));
        }
      }
      results.dataset.upgraded = "1";
    })
    .catch(() => {});
}
