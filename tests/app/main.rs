//! End-to-end tests of the `sendrow` binary and its window, in one test binary:
//! each test binary links the whole app, so one binary instead of seven keeps
//! the build (and CI's disk) small.

mod common;

mod cli;
mod daemon;
mod edges;
mod flow;
mod google;
mod i18n;
mod kill;
mod logs;
mod tray;
mod which_rows;
mod window;
