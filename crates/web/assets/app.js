// Small comforts only: every page works without this file.
document.documentElement.classList.add("js");

const csrfToken = () => document.querySelector('input[name="csrf_token"]')?.value ?? "";

document.addEventListener("click", (event) => {
  const dismiss = event.target.closest("[data-dismiss]");
  if (dismiss) dismiss.closest(".flash")?.remove();

  const toggle = event.target.closest(".menu-toggle");
  if (toggle) {
    const open = toggle.closest(".sidebar").classList.toggle("open");
    toggle.setAttribute("aria-expanded", String(open));
  }

  // Disconnect: a confirm dialog, then the POST the confirmation page would send.
  const confirmLink = event.target.closest("[data-confirm-post]");
  if (confirmLink) {
    event.preventDefault();
    if (!window.confirm(confirmLink.dataset.confirm)) return;
    const form = document.createElement("form");
    form.method = "post";
    form.action = confirmLink.dataset.confirmPost;
    const token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrf_token";
    token.value = csrfToken();
    form.append(token);
    document.body.append(form);
    form.submit();
  }

  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const text = document.querySelector(copy.dataset.copy)?.textContent ?? "";
    navigator.clipboard?.writeText(text).then(() => { copy.textContent = "Copied"; });
  }
});

// Choosing a marketplace presets its region (SANDBOX stays when chosen).
document.addEventListener("change", (event) => {
  const select = event.target.closest("[data-region-select]");
  if (!select) return;
  const region = select.selectedOptions[0]?.dataset.region;
  const regionSelect = document.querySelector(select.dataset.regionSelect);
  if (region && regionSelect && regionSelect.value !== "SANDBOX") regionSelect.value = region;
});

// Times in the viewer's locale; the UTC time stays in the tooltip.
for (const time of document.querySelectorAll("time[datetime]")) {
  const date = new Date(time.getAttribute("datetime"));
  if (!Number.isNaN(date.getTime())) {
    time.title = `${time.getAttribute("datetime")} (UTC)`;
    time.textContent = date.toLocaleString();
  }
}

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const sidebar = document.querySelector(".sidebar.open");
  if (sidebar) {
    sidebar.classList.remove("open");
    sidebar.querySelector(".menu-toggle")?.setAttribute("aria-expanded", "false");
  }
});
