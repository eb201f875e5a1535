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
