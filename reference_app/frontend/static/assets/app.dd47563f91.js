// Lists formulas from the API; escapes nothing by hand because it only uses textContent.
const results = document.getElementById("results");
async function search(query) {
  const response = await fetch(`/api/v1/formulas?q=${encodeURIComponent(query)}`);
  const page = await response.json();
  results.replaceChildren(
    ...page.items.map((formula) => {
      const item = document.createElement("li");
      item.textContent = `${formula.name}: ${formula.expression}`;
      return item;
    }),
  );
}
document.getElementById("search").addEventListener("submit", (event) => {
  event.preventDefault();
  search(new FormData(event.target).get("q") || "");
});
search("");
