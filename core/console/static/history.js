// History: the search is a plain GET form (a shareable URL); this adds the browser's
// time zone (dates are local days), drops empty fields from the URL and shows times
// in local time.
import { localTime } from "./console.js";

const form = document.getElementById("gp-history-form");
const tz = document.getElementById("gp-history-tz");
form.addEventListener("submit", () => {
  const hasDate = form.elements.from.value || form.elements.to.value;
  tz.value = hasDate ? String(new Date().getTimezoneOffset()) : "";
  for (const field of form.elements) {
    if (field.name && !field.value) field.disabled = true; // absent, not ?q=
  }
  setTimeout(() => { for (const field of form.elements) field.disabled = false; }, 0);
});
for (const time of document.querySelectorAll("#gp-history time[datetime]")) {
  time.textContent = localTime(time.getAttribute("datetime"), true);
  time.title = time.getAttribute("datetime");
}
document.getElementById("gp-history-agent")?.addEventListener("change", () => form.requestSubmit());
document.getElementById("gp-history-outcome")?.addEventListener("change", () => form.requestSubmit());
document.getElementById("gp-history-state")?.addEventListener("change", () => form.requestSubmit());
document.body.dataset.ready = "true";
