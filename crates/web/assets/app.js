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
const localTimes = (root) => {
  for (const time of root.querySelectorAll("time[datetime]")) {
    const date = new Date(time.getAttribute("datetime"));
    if (!Number.isNaN(date.getTime())) {
      time.title = `${time.getAttribute("datetime")} (UTC)`;
      time.textContent = date.toLocaleString();
    }
  }
};
localTimes(document);

// Live sync progress: a panel with a job under way fetches itself again every few seconds
// until the job ends.
const watchSync = (panel) => {
  setTimeout(async () => {
    let next = panel;
    try {
      const response = await fetch(panel.dataset.syncPanel, { credentials: "same-origin" });
      if (response.ok) {
        const html = await response.text();
        next = new DOMParser().parseFromString(html, "text/html").querySelector("[data-sync-panel]") ?? panel;
        if (next !== panel) {
          localTimes(next);
          panel.replaceWith(next);
        }
      }
    } catch {
      // Offline for a moment: try again.
    }
    if (next.hasAttribute("data-busy")) watchSync(next);
  }, 2000);
};
for (const panel of document.querySelectorAll("[data-sync-panel][data-busy]")) watchSync(panel);

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const sidebar = document.querySelector(".sidebar.open");
  if (sidebar) {
    sidebar.classList.remove("open");
    sidebar.querySelector(".menu-toggle")?.setAttribute("aria-expanded", "false");
  }
});
