//! The QEMU mps2-an386 board (Cortex-M4 with FPU) for the application in `lib.rs`: an LED
//! of the FPGA I/O block as the output pin, a busy-wait delay, SysTick as the instruction
//! counter, defmt over semihosting, and exit codes through semihosting.
#![no_std]
#![no_main]

use core::convert::Infallible;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::SYST;
use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::debug::{exit, EXIT_FAILURE, EXIT_SUCCESS};
use defmt_semihosting as _;
use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{ErrorType, OutputPin};
use ghn_firmware::{run, Buffers, FIG6B};
use panic_probe as _;

/// Core clock of the mps2-an386 (and SysTick's, with the core clock source).
const CORE_HZ: u32 = 25_000_000;
/// Under `-icount shift=0` one instruction takes 1 ns of virtual time, so one 25 MHz
/// SysTick tick is 40 instructions.
const INSTRUCTIONS_PER_TICK: u64 = 40;
/// SysTick's reload: the full 24 bits.
const RELOAD: u32 = 0x00FF_FFFF;
/// Base of the FPGA I/O block; its first register drives the board's LEDs.
const FPGAIO_LED0: *mut u32 = 0x4002_8000 as *mut u32;
/// Stack painting pattern.
const PAINT: u32 = 0xA5A5_A5A5;

/// The network and work buffers: zero-initialised, so in .bss, not on the stack.
static mut BUFFERS: Buffers = Buffers::new();

/// SysTick wraps since start.
static WRAPS: AtomicU32 = AtomicU32::new(0);

extern "C" {
    /// End of .bss/.data: the lowest address the stack may reach (cortex-m-rt).
    static mut __sheap: u32;
    /// Top of the stack (cortex-m-rt).
    static _stack_start: u32;
}

/// One LED of the FPGA I/O block.
struct Led {
    mask: u32,
}

impl ErrorType for Led {
    type Error = Infallible;
}

impl OutputPin for Led {
    fn set_low(&mut self) -> Result<(), Infallible> {
        // SAFETY: FPGAIO_LED0 is the board's LED register, only this driver touches it.
        unsafe { FPGAIO_LED0.write_volatile(FPGAIO_LED0.read_volatile() & !self.mask) };
        Ok(())
    }
    fn set_high(&mut self) -> Result<(), Infallible> {
        // SAFETY: as above.
        unsafe { FPGAIO_LED0.write_volatile(FPGAIO_LED0.read_volatile() | self.mask) };
        Ok(())
    }
}

/// Busy-wait delay counted in core cycles.
struct CycleDelay;

impl DelayNs for CycleDelay {
    fn delay_ns(&mut self, ns: u32) {
        let cycles = (ns as u64 * CORE_HZ as u64).div_ceil(1_000_000_000);
        cortex_m::asm::delay(cycles.max(1) as u32);
    }
}

/// Executed instructions since SysTick started (valid under `-icount shift=0`).
fn instructions() -> u64 {
    loop {
        let before = WRAPS.load(Ordering::Acquire);
        let current = SYST::get_current();
        // A wrap between the two loads (its exception runs at once) changes WRAPS: retry.
        if WRAPS.load(Ordering::Acquire) == before {
            let ticks = before as u64 * (RELOAD as u64 + 1) + (RELOAD - current) as u64;
            return ticks * INSTRUCTIONS_PER_TICK;
        }
    }
}

/// Fills the unused stack below the current frame with [`PAINT`].
fn paint_stack() {
    let bottom = &raw mut __sheap as usize;
    let sp = cortex_m::register::msp::read() as usize;
    let mut p = bottom;
    // Leave a margin below the current frame for this function's own calls.
    while p + 256 < sp {
        // SAFETY: [bottom, sp − 256) is unused stack (no heap: the crate has no allocator).
        unsafe { (p as *mut u32).write_volatile(PAINT) };
        p += 4;
    }
}

/// Deepest stack use since [`paint_stack`], in bytes.
fn stack_high_water() -> usize {
    let bottom = &raw mut __sheap as usize;
    let top = &raw const _stack_start as usize;
    let mut p = bottom;
    // SAFETY: reads within the stack region.
    while p < top && unsafe { (p as *const u32).read_volatile() } == PAINT {
        p += 4;
    }
    top - p
}

#[entry]
fn main() -> ! {
    paint_stack();
    let mut cp = cortex_m::Peripherals::take().expect("core peripherals");
    cp.SYST.set_clock_source(SystClkSource::Core);
    cp.SYST.set_reload(RELOAD);
    cp.SYST.clear_current();
    cp.SYST.enable_interrupt();
    cp.SYST.enable_counter();

    // SAFETY: the only reference to BUFFERS, taken once before anything else runs.
    // (`cortex_m::singleton!` would avoid `unsafe` but builds the 13 KB value on the stack
    // first: 34 KB more stack, measured.)
    let bufs = unsafe { (&raw mut BUFFERS).as_mut() }.expect("non-null static");
    let mut led = Led { mask: 1 };
    let outcome = run(&FIG6B, bufs, &mut led, &mut CycleDelay, instructions);
    // SAFETY: reading the LED register.
    let leds = unsafe { FPGAIO_LED0.read_volatile() };
    defmt::info!(
        "board: led0={=u32} stack_high_water={=usize} bytes static_ram={=usize} bytes",
        leds & 1,
        stack_high_water(),
        &raw mut __sheap as usize - 0x2000_0000
    );
    match outcome {
        Ok(_) => exit(EXIT_SUCCESS),
        Err(e) => {
            defmt::error!("run failed: {}", e);
            exit(EXIT_FAILURE)
        }
    }
    loop {
        cortex_m::asm::wfi();
    }
}

#[exception]
fn SysTick() {
    WRAPS.fetch_add(1, Ordering::AcqRel);
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    defmt::error!("HardFault at pc={=u32:#x}", frame.pc());
    exit(EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
