// The sign-in form of the /nexus page (shown when nobody is signed in): posts the
// credentials to /api/v1/auth/login as JSON, which sets the session cookie, then reloads.
const form = document.getElementById("gp-signin");
const errorBox = document.getElementById("gp-signin-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = document.getElementById("gp-signin-submit");
  button.disabled = true;
  errorBox.hidden = true;
  try {
    const response = await fetch("/api/v1/auth/login", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: form.elements.email.value, password: form.elements.password.value }),
    });
    if (response.ok) {
      location.reload();
      return;
    }
    let message = `Sign-in failed (HTTP ${response.status}).`;
    try {
      const data = await response.json();
      if (data.error && data.error.message) message = `Sign-in failed: ${data.error.message}`;
    } catch {
      // not JSON: keep the status
    }
    errorBox.textContent = message;
  } catch (err) {
    errorBox.textContent = `Sign-in failed: ${err.message}`;
  }
  errorBox.hidden = false;
  button.disabled = false;
});
