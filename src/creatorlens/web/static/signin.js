// Sign-in: a link of the form /signin#token=... (as `creatorlens demo` prints) signs in at
// once. The token is in the fragment, which no browser sends to any server or log; it is
// posted in the form's body and removed from the address before anything else happens.

const form = document.getElementById("signin-form");
const field = document.getElementById("token");
const fragment = new URLSearchParams(location.hash.slice(1));
const token = fragment.get("token");
if (token) {
  history.replaceState(null, "", location.pathname + location.search);
  field.value = token;
  form.requestSubmit();
} else {
  field.focus();
}
