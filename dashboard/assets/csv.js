// "Download CSV" under every table (dashboard/tables.py): the grid exports its rows as
// shown (filtered, sorted) with raw values, named after the table.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-csv-grid]");
  if (!button || !window.dash_ag_grid) {
    return;
  }
  const api = await window.dash_ag_grid.getApiAsync(button.dataset.csvGrid);
  api.exportDataAsCsv({ fileName: button.dataset.csvFile });
});
