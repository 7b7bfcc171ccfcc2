// The entry module of pages with no script of their own: the menu bar and the socket.
import "./console.js";
