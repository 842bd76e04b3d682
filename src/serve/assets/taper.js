// Optional: the page works without it. Choosing another profile re-shows
// the form for it at once (the "Use this profile" button does the same).
document.addEventListener("DOMContentLoaded", function () {
  var select = document.getElementById("f-profile");
  var choose = document.getElementById("choose");
  if (select && choose) {
    select.addEventListener("change", function () { choose.click(); });
  }
});
