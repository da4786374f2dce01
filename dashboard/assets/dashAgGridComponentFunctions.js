// Cell renderers named in column definitions (`cellRenderer: "ChannelLink"`).
var dagcomponentfuncs = (window.dashAgGridComponentFunctions =
  window.dashAgGridComponentFunctions || {});

// A channel's login as a link to its Streamer page; the cell's value (what CSV exports)
// stays the plain login.
dagcomponentfuncs.ChannelLink = function (props) {
  if (!props.value) {
    return null;
  }
  return React.createElement(
    "a",
    { href: "/streamer?channel=" + encodeURIComponent(props.value) },
    props.value
  );
};
