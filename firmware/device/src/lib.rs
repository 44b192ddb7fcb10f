//! The board support and the link to the host that both firmware images share.
//!
//! - [`board`]: the MPS2 AN386 peripherals the example uses (CMSDK UART0 and timer 0, as QEMU
//!   emulates them), the stand-in random generator, stack painting, and exit.
//! - [`link`]: frames over the UART (the same 4-byte big-endian length frame as the network
//!   transport, carrying the core's own message encoding), the host's commands, and the
//!   report the firmware sends after each protocol run.
//! - [`serve`]: the command loop around both images' protocol code (board setup, seed,
//!   stack painting, reports), so that each image only says what each command does.
#![no_std]

pub mod board;
pub mod link;
pub mod serve;
