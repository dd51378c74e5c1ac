/* Draws the charts of a page with the vendored vega-embed (front/vendor/vega/).
 *
 * The convention, written by the template front/includes/chart.html:
 *
 *   <div id="ID" data-chart-spec="ID-spec" data-chart-error="(translated message)">…</div>
 *   <script id="ID-spec" type="application/json">{…a Vega-Lite spec…}</script>
 *
 * The script element comes from Django's json_script, which escapes the spec for HTML. Every
 * element with data-chart-spec gets the chart of the spec its value names; if the chart cannot
 * be drawn, the element shows its data-chart-error text and the error goes to the console.
 * Include front/includes/chart_scripts.html once per page to load this and the libraries.
 */
"use strict";

(function () {
  // d3's ru-RU locales with two changes. Full months are nominative ("январь"): a time axis
  // shows a month on its own, where d3's genitive ("января") reads wrong. The short May is
  // genitive ("мая"): short months appear after a day, as in tooltips ("6 мая 2025").
  const RUSSIAN_NUMBERS = {
    decimal: ",",
    thousands: "\u00a0",
    grouping: [3],
    currency: ["", "\u00a0\u20bd"],
  };
  const RUSSIAN_TIME = {
    dateTime: "%A, %e %B %Y г. %X",
    date: "%d.%m.%Y",
    time: "%H:%M:%S",
    periods: ["AM", "PM"],
    days: ["воскресенье", "понедельник", "вторник", "среда", "четверг", "пятница", "суббота"],
    shortDays: ["вс", "пн", "вт", "ср", "чт", "пт", "сб"],
    months: [
      "январь", "февраль", "март", "апрель", "май", "июнь",
      "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
    ],
    shortMonths: [
      "янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек",
    ],
  };

  function embedOptions() {
    // No action menu: its "open in editor" would send the data to vega.github.io. The page's
    // Content-Security-Policy allows no eval and no inline style: `ast: true` evaluates Vega
    // expressions with the interpreter vega-embed bundles (vega-interpreter) instead of
    // compiling them with Function(), and the styles vega-embed and its tooltips would insert
    // as <style> elements come from front/charts.css instead.
    const options = {
      actions: false,
      renderer: "svg",
      ast: true,
      defaultStyle: false,
      tooltip: {disableDefaultStyle: true},
    };
    if (document.documentElement.lang.toLowerCase().startsWith("ru")) {
      options.formatLocale = RUSSIAN_NUMBERS;
      options.timeFormatLocale = RUSSIAN_TIME;
    }
    return options;
  }

  function fail(element, error) {
    console.error("chart #" + element.id + " could not be drawn:", error);
    const message = document.createElement("p");
    message.className = "chart-error";
    message.textContent = element.dataset.chartError;
    element.replaceChildren(message);
  }

  async function draw(element, options) {
    try {
      const source = document.getElementById(element.dataset.chartSpec);
      await vegaEmbed(element, JSON.parse(source.textContent), options);
    } catch (error) {
      fail(element, error);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    const options = embedOptions();
    document.querySelectorAll("[data-chart-spec]").forEach(function (element) {
      draw(element, options);
    });
  });
})();
