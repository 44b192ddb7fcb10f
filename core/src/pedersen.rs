//! The Pedersen group of the range proofs: quadratic residues mod the RFC 3526 group-14 prime.
//!
//! p is a 2048-bit safe prime nobody chose for this project, p' = (p − 1)/2 is prime, and the
//! quadratic residues form the subgroup of order p'. The generators are g = 4 = 2² and
//! h = u², u hashed from a fixed tag, so nobody knows log_g h. Their square roots 2 and u let a
//! prover commit with them while the verifier squares into the subgroup. Both roots are
//! themselves quadratic residues (2 because p ≡ 7 mod 8; u because it is the residue among ± the
//! value hashed from the tag): a commitment 2^ξ·u^r then always has Legendre symbol 1, whereas a
//! non-residue u would reveal the parity of every nonce r through the symbol of the commitment.

#[cfg(any(test, feature = "internals"))]
use crypto_bigint::{NonZero, U128};
use crypto_bigint::{U256, U384, U448, U2048, Uint, const_monty_params, modular::ConstMontyForm};

#[cfg(any(test, feature = "internals"))]
use crate::{tags, transcript::Transcript};

const_monty_params!(
    GroupPrime,
    U2048,
    concat!(
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22",
        "514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6",
        "F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D",
        "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
        "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E8603",
        "9B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
        "15728E5A8AACAA68FFFFFFFFFFFFFFFF"
    ),
    "The RFC 3526 group-14 safe prime."
);

/// An element of Z_p^* in Montgomery form.
pub type Element = ConstMontyForm<GroupPrime, { U2048::LIMBS }>;

/// The prime p.
pub const P: U2048 =
    <GroupPrime as crypto_bigint::modular::ConstMontyParams<{ U2048::LIMBS }>>::PARAMS
        .modulus()
        .get_copy();

/// The subgroup order p' = (p − 1)/2 (the protocol reduces nothing mod p' since its
/// exponents are short: tests and benches use it).
#[cfg(any(test, feature = "internals"))]
// vartime: public group constants.
pub const ORDER: U2048 = P.shr_vartime(1);

/// p' as a divisor.
#[cfg(any(test, feature = "internals"))]
#[must_use]
pub fn order_nz() -> NonZero<U2048> {
    NonZero::new(ORDER)
        .into_option()
        .unwrap_or(NonZero::<U2048>::ONE)
}

/// u, the square root of h: the quadratic residue among ±v, where v is hashed from the fixed
/// tag `tags::PEDERSEN_H` (the transcript's counter-mode SHA-256 stream, reduced mod p; see
/// [`hashed_root_h`]). It is a constant so that no step rehashes it; the test
/// `root_h_is_hashed_from_its_tag` derives it again from the tag and fails if the two ever
/// differ. Nobody chose it, so nobody knows log_g h.
const ROOT_H: Element = Element::new(&U2048::from_be_hex(concat!(
    "4498B5012F29C01753B64FB8BB445116CCEF0EADF9743889461A8F95274BC4F598B5245470131F33",
    "C5022D514766C1B8E1F304765E01A28D887E07B906251E5EB6B3F2B2CA19D94E25FB3B2C54DECC94",
    "EFC3A1C0E908391BD6EF85A6B35E6F67DF6DAB0D6FB7F442CE24205B601D2EE4C10706CEBD9342FD",
    "2C4A4DE3EDF7D8EC7E1FB1118EF054DC5EB5FFC2F9615DA0313AF07DC761C474EEDDCE6B56669921",
    "F5ED9142D5FE465123E9111093CFCD4FC3B341CEC442CD4C75AF2022FD6D73C11476A970688C89C7",
    "FBE5430B61AEFEC1F164C36B393E4D2835FCC5EEE586DBA59E6C616DC9267E1D8214BAC8669F6610",
    "B3B3D5BBF2E0D3F2E9EB08B999C30B16"
)));
/// 2, the square root of g.
const ROOT_G: Element = Element::new(&U2048::from_u8(2));
/// g = 2² and h = u², squared at compile time.
const GENERATORS: (Element, Element) = (ROOT_G.square(), ROOT_H.square());

/// The square roots of the generators: 2 and u, both quadratic residues mod p.
///
/// Of the two roots ±v of h hashed from the tag (exactly one is a residue, as −1 is not one
/// for p ≡ 3 mod 4) u is the residue, so that commitments made with u carry no information
/// about their nonce in their Legendre symbol. h = u² is the same either way.
#[must_use]
pub const fn generator_roots() -> (Element, Element) {
    (ROOT_G, ROOT_H)
}

/// The residue among ± the value hashed from the tag `tags::PEDERSEN_H`: how [`ROOT_H`] was
/// made, for the test that pins the constant and for anyone who wants to check that nobody
/// chose it.
#[cfg(any(test, feature = "internals"))]
#[must_use]
pub fn hashed_root_h() -> Element {
    let hashed = hashed_value();
    // vartime: the symbol of a public constant derived from a fixed tag.
    let residue = hashed.jacobi_symbol_vartime() == crypto_bigint::JacobiSymbol::One;
    if residue { hashed } else { hashed.neg() }
}

/// The value hashed from the tag `tags::PEDERSEN_H`, before the residue among ± it is chosen.
#[cfg(any(test, feature = "internals"))]
fn hashed_value() -> Element {
    let mut xof = Transcript::new(tags::PEDERSEN_H).into_xof();
    let wide: Uint<{ U2048::LIMBS + U128::LIMBS }> = xof.integer_mod(
        &NonZero::new(P.resize())
            .into_option()
            .unwrap_or(NonZero::ONE),
    );
    Element::new(&wide.resize())
}

/// The generators g = 4 and h = u².
#[must_use]
pub const fn generators() -> (Element, Element) {
    GENERATORS
}

/// Digit width of [`Table`]: 5 bits, one multiplication per 5 exponent bits and a scan of 32
/// entries per row. Measured against 4 and 6 (BENCHMARKS.md, "Pedersen table window"): 5 makes
/// P1's 50 range commitments about 7 % faster than 4 for a 60 % larger table, and 6 is no
/// faster than 5 (the rows' scans, 64 entries of 256 bytes each, outweigh the multiplications
/// saved).
pub const TABLE_WINDOW: u32 = 5;
/// Bits of the Pedersen randomness ρ of keygen's Com = g^x·h^ρ: a short exponent within the
/// 220–320 bits RFC 3526 (§8) gives for this group and above NIST SP 800-56A Rev. 3's 2s = 224
/// for its 112-bit strength. With ρ < p' the commitment would hide x perfectly; with
/// ρ < 2^256 it hides x computationally (short-exponent discrete log and DDH), and one
/// discrete-log break of this fixed group would open every Com ever sent (docs/SECURITY.md,
/// "Short Pedersen exponents", says why we accept that). h^ρ takes an eighth of the squarings.
/// The proofs' nonces are wider by their statistical slack, so their responses hide ρ as the
/// other masks hide x.
pub const RANDOMNESS_BITS: u32 = 256;
// ρ is a U256; 2ρ stays within the table's rows for u.
const _: () = assert!(RANDOMNESS_BITS <= U256::BITS && RANDOMNESS_BITS < TABLE_ROOT_H_BITS);
/// Bits of the exponents of 2, the root of g, that a [`Table`] covers: the range proof's
/// masks ξ_i (below q·2^λ < 2^320), raised 50 times per keygen.
pub const TABLE_ROOT_G_BITS: u32 = 320;
/// Bits of the exponents of u, the root of h, that a [`Table`] covers: the range proof's
/// nonces (below 2^(256+λ) = 2^320), twice the equality proof's μ (below 2^(256+54+λ)) and
/// twice ρ.
pub const TABLE_ROOT_H_BITS: u32 = 384;
/// Entries of one row: the 2^[`TABLE_WINDOW`] digits of one window.
const ROW: usize = 1 << TABLE_WINDOW;
/// The low bits of an exponent that pick an entry of a row.
const DIGIT_MASK: u64 = (1 << TABLE_WINDOW) - 1;
/// Entries for u.
const ROOT_H_ENTRIES: usize = (TABLE_ROOT_H_BITS as usize).div_ceil(TABLE_WINDOW as usize) * ROW;
/// Entries of a [`Table`] (256 bytes each: 1.1 MiB).
pub const TABLE_LEN: usize =
    ROOT_H_ENTRIES + (TABLE_ROOT_G_BITS as usize).div_ceil(TABLE_WINDOW as usize) * ROW;

/// A fixed-base table of the generators' roots u and 2: b^(d·32^i) for every 5-bit window i
/// and digit d, in caller-owned storage, for exponents of u below 2^`TABLE_ROOT_H_BITS` and
/// of 2 below 2^`TABLE_ROOT_G_BITS`. It makes the prover's u^r, h^r and 2^ξ several times faster (one
/// multiplication per window, each row scanned in constant time). The same table serves every
/// key and every party: build it once per process.
pub struct Table<'t> {
    entries: &'t [U2048],
}

impl<'t> Table<'t> {
    /// Fills `storage` (exactly [`TABLE_LEN`] entries).
    ///
    /// # Errors
    /// [`crate::Error::BufferTooSmall`] for any other length.
    pub fn new(storage: &'t mut [U2048]) -> crate::Result<Self> {
        if storage.len() != TABLE_LEN {
            return Err(crate::Error::BufferTooSmall);
        }
        let (root_g, root_h) = generator_roots();
        let (h_rows, g_rows) = storage.split_at_mut(ROOT_H_ENTRIES);
        fill_rows(h_rows, root_h);
        fill_rows(g_rows, root_g);
        Ok(Self { entries: storage })
    }

    /// u^e for e < 2^`TABLE_ROOT_H_BITS` (higher bits are not read), in constant time in e.
    #[must_use]
    pub fn pow_root_h<const L: usize>(&self, e: &Uint<L>) -> Element {
        pow_rows(self.root_h_rows(), e)
    }

    /// 2^e for e < 2^`TABLE_ROOT_G_BITS` (higher bits are not read), in constant time in e.
    #[must_use]
    pub fn pow_root_g<const L: usize>(&self, e: &Uint<L>) -> Element {
        pow_rows(self.root_g_rows(), e)
    }

    fn root_h_rows(&self) -> &[U2048] {
        self.entries.get(..ROOT_H_ENTRIES).unwrap_or_default()
    }

    fn root_g_rows(&self) -> &[U2048] {
        self.entries.get(ROOT_H_ENTRIES..).unwrap_or_default()
    }
}

/// Row i of `rows` gets base^(d·32^i) for d = 0..32, in Montgomery form.
fn fill_rows(rows: &mut [U2048], base: Element) {
    let mut row_base = base;
    for row in rows.chunks_exact_mut(ROW) {
        let mut acc = Element::ONE;
        for entry in row.iter_mut() {
            *entry = acc.to_montgomery();
            acc = acc.mul(&row_base);
        }
        row_base = acc;
    }
}

/// The rows of `rows` that cover exponents below 2^`bits` (a public bound): a caller's short
/// exponent walks only those, not every row the table has.
fn rows_for(rows: &[U2048], bits: u32) -> &[U2048] {
    let needed = (bits as usize).div_ceil(TABLE_WINDOW as usize) * ROW;
    rows.get(..needed).unwrap_or(rows)
}

/// The product over rows i of row i's entry for digit i of e: base^e for the exponent bits the
/// rows cover. Every entry of every row is read, whatever e.
fn pow_rows<const L: usize>(rows: &[U2048], e: &Uint<L>) -> Element {
    let mut acc = Element::ONE;
    for (i, row) in rows.chunks_exact(ROW).enumerate() {
        let shift = u32::try_from(i).map_or(u32::MAX, |i| i.saturating_mul(TABLE_WINDOW));
        let digit = e
            // Zero past the exponent's width (wrapping_shr would reduce the shift mod the
            // width and read low bits again for a narrow exponent).
            .unbounded_shr(shift)
            .as_limbs()
            .first()
            .map_or(0, |l| limb_u64(l.0) & DIGIT_MASK);
        let mut picked = U2048::ZERO;
        for (d, entry) in (0u64..).zip(row.iter()) {
            subtle::ConditionallySelectable::conditional_assign(
                &mut picked,
                entry,
                subtle::ConstantTimeEq::ct_eq(&d, &digit),
            );
        }
        acc = acc.mul(&Element::from_montgomery(picked));
    }
    acc
}

/// A limb as `u64` (limbs are `u32` on 32-bit targets).
#[allow(clippy::useless_conversion)]
fn limb_u64(word: crypto_bigint::Word) -> u64 {
    u64::from(word)
}

/// g^d·h^e for d, e < 2^`bits` (≤ 448; higher bits are not read), by one chain of `bits`
/// squarings shared by g and h: the right-hand side of the keygen verifiers' Pedersen
/// relations (g^d·h^ν, g^(Σd_i·w_i)·h^(Σf_i·w_i)), whose exponents short Pedersen randomness
/// keeps below 2^448. Constant time in d and e (crypto-bigint's multi-exponentiation), though
/// its callers only pass public values and public bounds.
#[must_use]
pub fn g_h_power(d: &U448, e: &U448, bits: u32) -> Element {
    use crypto_bigint::MultiExponentiateBoundedExp;
    let (g, h) = generators();
    Element::multi_exponentiate_bounded_exp(&[(g, *d), (h, *e)], bits)
}

/// 2^a·u^b for a < 2^`a_bits` and b < 2^`b_bits`: with the table if there is one and it
/// covers both, as two lookups; without, by one chain of max(`a_bits`, `b_bits`) squarings
/// shared by both roots (crypto-bigint's constant-time multi-exponentiation) instead of a
/// chain for each. Constant time in a and b; the bounds are public.
#[must_use]
pub fn pow_roots<const L: usize>(
    table: Option<&Table<'_>>,
    a: &Uint<L>,
    a_bits: u32,
    b: &Uint<L>,
    b_bits: u32,
) -> Element {
    match table {
        Some(t) if a_bits <= TABLE_ROOT_G_BITS && b_bits <= TABLE_ROOT_H_BITS => {
            pow_rows(rows_for(t.root_g_rows(), a_bits), a)
                .mul(&pow_rows(rows_for(t.root_h_rows(), b_bits), b))
        }
        _ => {
            use crypto_bigint::MultiExponentiateBoundedExp;
            let (two, u) = generator_roots();
            Element::multi_exponentiate_bounded_exp(&[(two, *a), (u, *b)], a_bits.max(b_bits))
        }
    }
}

/// u^e for e < 2^`bits`, with the table if there is one and it covers `bits` (constant time
/// in e; `bits` is public). One root alone: the range proof takes both at once
/// ([`pow_roots`]); tests and the timing harness take each.
#[cfg(any(test, feature = "internals"))]
#[must_use]
pub fn pow_root_h<const L: usize>(table: Option<&Table<'_>>, e: &Uint<L>, bits: u32) -> Element {
    match table {
        Some(t) if bits <= TABLE_ROOT_H_BITS => pow_rows(rows_for(t.root_h_rows(), bits), e),
        _ => generator_roots().1.pow_bounded_exp(e, bits),
    }
}

/// 2^e for e < 2^`bits`, with the table if there is one and it covers `bits` (constant time
/// in e; `bits` is public). One root alone: the range proof takes both at once
/// ([`pow_roots`]); tests and the timing harness take each.
#[cfg(any(test, feature = "internals"))]
#[must_use]
pub fn pow_root_g<const L: usize>(table: Option<&Table<'_>>, e: &Uint<L>, bits: u32) -> Element {
    match table {
        Some(t) if bits <= TABLE_ROOT_G_BITS => pow_rows(rows_for(t.root_g_rows(), bits), e),
        _ => ROOT_G.pow_bounded_exp(e, bits),
    }
}

/// h^e = u^(2e) for e < 2^`bits`, with the table if there is one and it covers 2e (constant
/// time in e; `bits` is public).
#[must_use]
pub fn pow_h(table: Option<&Table<'_>>, e: &U384, bits: u32) -> Element {
    match table {
        Some(t) if bits < TABLE_ROOT_H_BITS => {
            let doubled = zeroize::Zeroizing::new(e.shl(1));
            pow_rows(rows_for(t.root_h_rows(), bits + 1), &*doubled)
        }
        _ => generators().1.pow_bounded_exp(e, bits),
    }
}

impl core::fmt::Debug for Table<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Table")
            .field("entries", &self.entries.len())
            .finish()
    }
}

/// Parses an element of `(1, p)` that lies in the order-p' subgroup (a public check).
///
/// For the safe prime p that subgroup is exactly the quadratic residues (Euler's criterion:
/// x^p' = (x | p)), so the Legendre symbol decides membership: the same answer as x^p' = 1
/// for a small fraction of a 2048-bit exponentiation's cost.
#[must_use]
pub fn subgroup_element(value: &U2048) -> Option<Element> {
    // vartime: group elements on the wire are public.
    if value.cmp_vartime(&U2048::ONE).is_le() || value.cmp_vartime(&P).is_ge() {
        return None;
    }
    let e = Element::new(value);
    // vartime: group elements on the wire are public.
    (e.jacobi_symbol_vartime() == crypto_bigint::JacobiSymbol::One).then_some(e)
}

/// Parses an element of `(0, p)` (any unit; the verifier squares it into the subgroup).
#[must_use]
pub fn unit_element(value: &U2048) -> Option<Element> {
    // vartime: group elements on the wire are public.
    if value.is_zero_vartime() || value.cmp_vartime(&P).is_ge() {
        return None;
    }
    Some(Element::new(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_is_a_safe_prime_and_generators_are_in_the_subgroup() {
        assert!(crypto_primes::is_prime(crypto_primes::Flavor::Any, &P));
        assert!(crypto_primes::is_prime(crypto_primes::Flavor::Any, &ORDER));
        let (g, h) = generators();
        assert!(subgroup_element(&g.retrieve()).is_some());
        assert!(subgroup_element(&h.retrieve()).is_some());
        assert_ne!(g, h);
        // −1 is not a residue (p ≡ 3 mod 4); the subgroup check must notice.
        assert!(subgroup_element(&P.wrapping_sub(&U2048::ONE)).is_none());
        assert!(subgroup_element(&U2048::ONE).is_none());
        assert!(subgroup_element(&P).is_none());
    }

    /// The symbol test accepts exactly the elements x^p' = 1 accepts: residues and
    /// non-residues alike, including the boundary values and −1 (order 2).
    #[test]
    fn subgroup_test_by_symbol_agrees_with_the_order_test() {
        let mut xof = Transcript::new(b"subgroup symbol test").into_xof();
        let mut seen = [0usize; 2];
        let two = U2048::from_u8(2);
        for value in (0..40)
            .map(|_| xof.integer_mod(&order_nz()).wrapping_add(&two))
            .chain([
                two,
                U2048::from_u8(3),
                P.wrapping_sub(&two),
                P.wrapping_sub(&U2048::ONE),
            ])
        {
            let by_order = Element::new(&value).pow(&ORDER) == Element::ONE;
            assert_eq!(subgroup_element(&value).is_some(), by_order, "{value}");
            seen[usize::from(by_order)] += 1;
        }
        // Both kinds were tried.
        assert!(seen[0] > 5 && seen[1] > 5, "{seen:?}");
    }

    /// Both roots are residues: r^((p−1)/2) = 1, and they still square to the generators.
    #[test]
    fn generator_roots_are_quadratic_residues() {
        let (sg, sh) = generator_roots();
        assert_eq!(sg.pow(&ORDER), Element::ONE);
        assert_eq!(sh.pow(&ORDER), Element::ONE);
        assert_eq!(sg.square(), generators().0);
        assert_eq!(sh.square(), generators().1);
        assert_eq!(generators().0.retrieve(), U2048::from_u8(4));
    }

    /// The constant u is the one hashed from the tag: a change of tag, of hash or of the
    /// reduction would fail here, not silently move h. The hashed value itself was the
    /// non-residue, so the constant is its negation, and h = u² is the same either way.
    #[test]
    fn root_h_is_hashed_from_its_tag() {
        assert_eq!(hashed_root_h(), ROOT_H);
        let hashed = hashed_value();
        assert_eq!(
            hashed.neg(),
            ROOT_H,
            "the hashed root was expected to be the non-residue"
        );
        assert_eq!(hashed.square(), generators().1);
    }

    /// g^d·h^e by the shared chain equals the two powers raised apart, for exponents at the
    /// edges (0, all ones, a single top bit) and random ones; a bound reads only the bits
    /// below it.
    #[test]
    fn g_h_power_is_g_to_d_times_h_to_e() {
        let (g, h) = generators();
        let check = |d: U448, e: U448| {
            assert_eq!(g_h_power(&d, &e, 448), g.pow(&d).mul(&h.pow(&e)), "{d} {e}");
        };
        check(U448::ZERO, U448::ZERO);
        check(U448::MAX, U448::MAX);
        check(U448::ONE, U448::ONE.shl(447));
        check(U448::ONE.shl(447), U448::ONE);
        let mut rng = crate::fixtures::rng(9);
        let max = NonZero::new(U448::MAX).unwrap();
        for _ in 0..4 {
            check(
                crate::bigint::random_below(&mut rng, &max),
                crate::bigint::random_below(&mut rng, &max),
            );
        }
        let low = U448::from_u64(0xdead_beef);
        let high = U448::ONE.shl(400);
        assert_eq!(
            g_h_power(&high.wrapping_add(&low), &low, 375),
            g.pow(&low).mul(&h.pow(&low))
        );
    }
}
