// The sign-in form: POST /api/v1/auth/login, then on to where the person was going.
import { ApiError, api, context, showError } from "./console.js";

const form = document.getElementById("gp-signin");
const error = document.getElementById("gp-signin-error");
const submit = document.getElementById("gp-signin-submit");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const email = form.elements.email.value.trim();
  const password = form.elements.password.value;
  if (!email || !password) {
    showError(error, new Error("Enter your email and password."));
    (email ? form.elements.password : form.elements.email).focus();
    return;
  }
  submit.disabled = true;
  try {
    await api("POST", "/api/v1/auth/login", { email, password });
    location.assign(context.next || "/queue");
  } catch (failure) {
    const message = failure instanceof ApiError && failure.status === 401
      ? "Wrong email or password." : failure.message;
    showError(error, new Error(message));
    form.elements.password.select();
  } finally {
    submit.disabled = false;
  }
});
