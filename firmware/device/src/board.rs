//! The MPS2 AN386 board (Cortex-M4) as QEMU emulates it, reduced to what the example needs.
//!
//! Registers are those of Arm's CMSDK APB UART and APB timer (Cortex-M System Design Kit
//! technical reference manual), at the addresses of the AN386 memory map.

use core::convert::Infallible;
use core::ptr::{read_volatile, write_volatile};

use rand_chacha::ChaCha20Rng;
use rand_core::{SeedableRng, TryCryptoRng, TryRng};

/// UART0 of the AN386.
const UART0: usize = 0x4000_4000;
const UART_DATA: usize = 0x00;
const UART_STATE: usize = 0x04;
const UART_CTRL: usize = 0x08;
const UART_BAUDDIV: usize = 0x10;
const STATE_TX_FULL: u32 = 1 << 0;
const STATE_RX_FULL: u32 = 1 << 1;
const CTRL_TX_EN: u32 = 1 << 0;
const CTRL_RX_EN: u32 = 1 << 1;
/// The smallest divider the CMSDK UART accepts; the emulated line has no real baud rate.
const BAUDDIV_MIN: u32 = 16;

/// Timer 0 of the AN386, clocked by the 25 MHz peripheral clock (`proto::TICKS_HZ`).
const TIMER0: usize = 0x4000_0000;
const TIMER_CTRL: usize = 0x00;
const TIMER_VALUE: usize = 0x04;
const TIMER_RELOAD: usize = 0x08;
const TIMER_CTRL_EN: u32 = 1 << 0;

fn reg_read(addr: usize) -> u32 {
    // SAFETY: `addr` is one of the peripheral registers above, always mapped on this board;
    // a volatile 32-bit read of them has no effect beyond the documented one.
    unsafe { read_volatile(addr as *const u32) }
}

fn reg_write(addr: usize, value: u32) {
    // SAFETY: as for `reg_read`; nothing else in the program owns these registers.
    unsafe { write_volatile(addr as *mut u32, value) }
}

/// The serial port the host talks to (UART0, polled: the example uses no interrupts).
pub struct Uart(());

impl Uart {
    /// Enables UART0's transmitter and receiver.
    #[must_use]
    pub fn init() -> Self {
        reg_write(UART0 + UART_BAUDDIV, BAUDDIV_MIN);
        reg_write(UART0 + UART_CTRL, CTRL_TX_EN | CTRL_RX_EN);
        Self(())
    }

    /// Sends every byte of `bytes`, waiting while the transmit buffer is full.
    pub fn write_all(&mut self, bytes: &[u8]) {
        for &b in bytes {
            while reg_read(UART0 + UART_STATE) & STATE_TX_FULL != 0 {}
            reg_write(UART0 + UART_DATA, u32::from(b));
        }
    }

    /// Fills `out`, waiting for each byte.
    pub fn read_exact(&mut self, out: &mut [u8]) {
        for b in out {
            while reg_read(UART0 + UART_STATE) & STATE_RX_FULL == 0 {}
            *b = reg_read(UART0 + UART_DATA).to_le_bytes()[0];
        }
    }
}

/// A free-running tick counter (timer 0 counting down from its maximum, read inverted).
///
/// Under QEMU's `-icount shift=0` every guest instruction advances virtual time by 1 ns, so
/// one tick of this 25 MHz timer is 40 instructions: the host converts ticks to instructions.
pub struct Timer(());

impl Timer {
    /// Starts timer 0 from its maximum value.
    #[must_use]
    pub fn start() -> Self {
        reg_write(TIMER0 + TIMER_CTRL, 0);
        reg_write(TIMER0 + TIMER_RELOAD, u32::MAX);
        reg_write(TIMER0 + TIMER_VALUE, u32::MAX);
        reg_write(TIMER0 + TIMER_CTRL, TIMER_CTRL_EN);
        Self(())
    }

    /// Ticks since [`Timer::start`] (wrapping every 2^32 ticks: 171 s at 25 MHz).
    #[must_use]
    pub fn now(&self) -> u32 {
        !reg_read(TIMER0 + TIMER_VALUE)
    }
}

/// The board's random generator: ChaCha20 seeded by the host at boot.
///
/// **A stand-in for a hardware RNG.** QEMU's MPS2 boards have no TRNG, so the host sends a
/// 32-byte seed over the UART. A real board implements the same traits (`rand_core` 0.10's
/// `TryRng` + `TryCryptoRng` with `Error = Infallible`, i.e. `CryptoRng`, which is what the
/// core takes) on its TRNG peripheral, or on a DRBG that peripheral seeds afresh at every
/// boot; a seed that crossed a wire is not acceptable outside this demo.
pub struct StandInRng(ChaCha20Rng);

impl StandInRng {
    /// The generator for `seed`.
    #[must_use]
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(ChaCha20Rng::from_seed(seed))
    }
}

impl TryRng for StandInRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.0.try_next_u32()
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0.try_next_u64()
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.try_fill_bytes(dst)
    }
}

impl TryCryptoRng for StandInRng {}

/// The word the free stack is painted with.
const PAINT: u32 = 0xA5C3_5A3C;
/// Bytes below the current stack pointer left unpainted: the painting loop's own frame.
const PAINT_MARGIN: usize = 256;

unsafe extern "C" {
    // Defined by cortex-m-rt's link.x from memory.x.
    static _ram_start: u32;
    static _stack_start: u32;
    static _stack_end: u32;
}

fn ram_start() -> usize {
    (&raw const _ram_start) as usize
}
fn stack_top() -> usize {
    (&raw const _stack_start) as usize
}
fn stack_bottom() -> usize {
    (&raw const _stack_end) as usize
}

/// RAM taken by static data: `.data`, `.bss` and `.uninit`, from the linker's symbols.
#[must_use]
pub fn static_ram() -> u32 {
    u32::try_from(stack_bottom() - ram_start()).unwrap_or(u32::MAX)
}

/// Paints the free stack (everything below the caller's frame) so that
/// [`stack_peak`] can later find the deepest word written.
#[inline(never)]
pub fn paint_stack() {
    let sp = cortex_m::register::msp::read() as usize;
    let mut addr = stack_bottom();
    while addr + 4 <= sp - PAINT_MARGIN {
        // SAFETY: [stack_bottom, sp - margin) is stack memory no live frame uses (no
        // interrupts are enabled, and this function's frame lies above sp - margin).
        unsafe { write_volatile(addr as *mut u32, PAINT) };
        addr += 4;
    }
}

/// The deepest stack use since [`paint_stack`], in bytes from the top of the stack.
#[must_use]
#[inline(never)]
pub fn stack_peak() -> u32 {
    let mut addr = stack_bottom();
    // SAFETY: reads of stack memory below the live frames, word-aligned (link.x aligns
    // _stack_end to 4); the region was painted by `paint_stack`.
    while addr < stack_top() && unsafe { read_volatile(addr as *const u32) } == PAINT {
        addr += 4;
    }
    u32::try_from(stack_top() - addr).unwrap_or(u32::MAX)
}

/// Ends the emulation (semihosting exit): QEMU quits with status 0 on success.
pub fn exit(success: bool) -> ! {
    use cortex_m_semihosting::debug;
    debug::exit(if success {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    // Under QEMU the call above ends the emulation. On a board without a debugger attached,
    // semihosting's breakpoint faults instead (HardFault): a board's image replaces this
    // and the panic handler below with a wipe of RAM and `SCB::sys_reset`.
    loop {
        cortex_m::asm::wfi();
    }
}

/// Reports a panic on the semihosting console and fails the run.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    cortex_m_semihosting::heprintln!("firmware panic: {}", info);
    exit(false)
}
