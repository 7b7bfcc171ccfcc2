// /admin/guided-paths (admin_pages.py): import a document from a file, archive and
// restore paths. The list itself is drawn on the server.
import { api, el, showError } from "/console/assets/console.js";

const PATHS = "/api/v1/guided-paths";
const errorBox = document.getElementById("gp-paths-error");
const notice = document.getElementById("gp-paths-notice");

document.querySelectorAll("#gp-paths [data-action]").forEach((button) => {
  button.addEventListener("click", async () => {
    const row = button.closest("tr");
    button.disabled = true;
    try {
      await api("POST", `${PATHS}/${encodeURIComponent(row.dataset.pathId)}/${button.dataset.action}`);
      location.reload();
    } catch (error) {
      button.disabled = false;
      showError(errorBox, error);
    }
  });
});

const form = document.getElementById("gp-import-form");
const issues = document.getElementById("gp-import-issues");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  notice.hidden = true;
  issues.replaceChildren();
  const file = document.getElementById("gp-import-file").files[0];
  if (!file) return;
  let document_;
  try {
    document_ = JSON.parse(await file.text());
  } catch (error) {
    showError(errorBox, new Error(`${file.name} is not JSON: ${error.message}`));
    return;
  }
  const publish = document.getElementById("gp-import-publish").checked;
  try {
    const result = await api("POST", `${PATHS}/import${publish ? "?publish=true" : ""}`, document_);
    notice.textContent = `${result.created ? "Created" : "Updated the draft of"} “${result.title}”`
      + (result.published_version ? `, published as version ${result.published_version}.` : ".")
      + (result.issues.length ? ` The draft has ${result.issues.length} problem(s) to fix before publishing.` : "");
    notice.hidden = false;
    setTimeout(() => location.reload(), 1200);
  } catch (error) {
    showError(errorBox, error);
    issues.replaceChildren(...(error.issues || []).map((issue) =>
      el("li", {}, el("code", {}, issue.pointer || "/"), " ", issue.message, " ", el("span", { class: "gp-muted" }, `(${issue.code})`))));
  }
});
