// Dateline site enhancements. Every page works without this file: it only submits the filter
// form when a choice changes, keeps empty filters out of the URL, and adds a copy button to
// the citation box.
'use strict';

function enhance() {
  for (const form of document.querySelectorAll('form.filters')) {
    form.addEventListener('submit', () => {
      for (const field of form.elements) if (field.name && field.value === '') field.disabled = true;
    });
    for (const select of form.querySelectorAll('select[data-autosubmit]')) {
      select.addEventListener('change', () => form.requestSubmit());
    }
  }
  for (const button of document.querySelectorAll('button[data-copy]')) {
    const source = document.getElementById(button.dataset.copy);
    if (!source) continue;
    button.hidden = false;
    button.addEventListener('click', async () => {
      const status = button.parentElement.querySelector('.copy-status');
      try {
        await navigator.clipboard.writeText(source.value);
      } catch {
        source.select();
        document.execCommand('copy');
      }
      if (status) status.textContent = button.dataset.copied;
    });
  }
}

// Fields disabled on submit come back enabled when the reader returns with the back button.
window.addEventListener('pageshow', () => {
  for (const field of document.querySelectorAll('form.filters [disabled]')) field.disabled = false;
});

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', enhance);
else enhance();
