// Small comforts only: every page works without this file.
document.documentElement.classList.add("js");

document.addEventListener("click", (event) => {
  const dismiss = event.target.closest("[data-dismiss]");
  if (dismiss) dismiss.closest(".flash")?.remove();

  const toggle = event.target.closest(".menu-toggle");
  if (toggle) {
    const open = toggle.closest(".sidebar").classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const sidebar = document.querySelector(".sidebar.open");
  if (sidebar) {
    sidebar.classList.remove("open");
    sidebar.querySelector(".menu-toggle")?.setAttribute("aria-expanded", "false");
  }
});
