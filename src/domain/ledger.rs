//! Double-entry bookkeeping with no I/O: the chart of accounts, journal
//! entries that must balance per currency before they can exist, and the
//! postings each business event makes. Storage appends entries and keeps
//! balances; it never decides what an entry holds.

use std::collections::BTreeMap;

use serde::Serialize;

use super::money::Currency;

/// What kind of account, which decides its normal side: assets and
/// expenses grow with debits, liabilities, equity and income with credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Asset,
    Liability,
    Equity,
    Income,
    Expense,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Asset => "asset",
            AccountKind::Liability => "liability",
            AccountKind::Equity => "equity",
            AccountKind::Income => "income",
            AccountKind::Expense => "expense",
        }
    }

    /// The balance as the account's readers expect it: debits minus
    /// credits for debit-normal accounts, the reverse for the others.
    pub fn balance(self, debits: i64, credits: i64) -> i64 {
        match self {
            AccountKind::Asset | AccountKind::Expense => debits - credits,
            _ => credits - debits,
        }
    }
}

/// The store's chart of accounts. Each account may be split by a party
/// (a customer, a company, a provider, a channel, a tax rate) written after
/// a colon: `receivable:cus_01…`, `clearing:test_card`, `tax_payable:de-19`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Account {
    /// Money at the bank.
    Bank,
    /// Cash taken on delivery, not yet banked.
    Cash,
    /// Captured by a payment provider, not yet paid out to the bank.
    Clearing,
    /// What buyers owe for orders placed and not yet paid.
    Receivable,
    /// Store credit owed to customers.
    StoreCredit,
    /// Gift card balances owed to their holders.
    GiftCards,
    /// Payments received before anything was owed.
    Prepayments,
    /// Tax collected, owed to the tax authority.
    TaxPayable,
    /// Sales, split by channel.
    Revenue,
    /// Shipping charged to buyers.
    ShippingIncome,
    /// Donations received.
    Donations,
    /// Discounts given (a contra-income, kept as an expense).
    Discounts,
    /// Money returned to buyers.
    Refunds,
    /// Provider and bank fees.
    Fees,
    /// Amounts given up on.
    WriteOffs,
    /// Credit and cards given away (goodwill, promotions).
    Promotions,
}

impl Account {
    pub const ALL: [Account; 16] = [
        Account::Bank,
        Account::Cash,
        Account::Clearing,
        Account::Receivable,
        Account::StoreCredit,
        Account::GiftCards,
        Account::Prepayments,
        Account::TaxPayable,
        Account::Revenue,
        Account::ShippingIncome,
        Account::Donations,
        Account::Discounts,
        Account::Refunds,
        Account::Fees,
        Account::WriteOffs,
        Account::Promotions,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Account::Bank => "bank",
            Account::Cash => "cash",
            Account::Clearing => "clearing",
            Account::Receivable => "receivable",
            Account::StoreCredit => "store_credit",
            Account::GiftCards => "gift_cards",
            Account::Prepayments => "prepayments",
            Account::TaxPayable => "tax_payable",
            Account::Revenue => "revenue",
            Account::ShippingIncome => "shipping_income",
            Account::Donations => "donations",
            Account::Discounts => "discounts",
            Account::Refunds => "refunds",
            Account::Fees => "fees",
            Account::WriteOffs => "write_offs",
            Account::Promotions => "promotions",
        }
    }

    /// A conventional number for exports to accounting systems.
    pub fn number(self) -> u32 {
        match self {
            Account::Bank => 1000,
            Account::Cash => 1010,
            Account::Clearing => 1100,
            Account::Receivable => 1200,
            Account::StoreCredit => 2100,
            Account::GiftCards => 2110,
            Account::Prepayments => 2120,
            Account::TaxPayable => 2200,
            Account::Revenue => 4000,
            Account::ShippingIncome => 4100,
            Account::Donations => 4200,
            Account::Discounts => 5000,
            Account::Refunds => 5100,
            Account::Fees => 6000,
            Account::WriteOffs => 6100,
            Account::Promotions => 6200,
        }
    }

    pub fn kind(self) -> AccountKind {
        match self {
            Account::Bank | Account::Cash | Account::Clearing | Account::Receivable => AccountKind::Asset,
            Account::StoreCredit | Account::GiftCards | Account::Prepayments | Account::TaxPayable => {
                AccountKind::Liability
            }
            Account::Revenue | Account::ShippingIncome | Account::Donations => AccountKind::Income,
            Account::Discounts | Account::Refunds | Account::Fees | Account::WriteOffs | Account::Promotions => {
                AccountKind::Expense
            }
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Account::Bank => "Bank",
            Account::Cash => "Cash on hand",
            Account::Clearing => "Payment provider clearing",
            Account::Receivable => "Accounts receivable",
            Account::StoreCredit => "Store credit owed",
            Account::GiftCards => "Gift cards outstanding",
            Account::Prepayments => "Customer prepayments",
            Account::TaxPayable => "Tax payable",
            Account::Revenue => "Sales revenue",
            Account::ShippingIncome => "Shipping income",
            Account::Donations => "Donations received",
            Account::Discounts => "Discounts given",
            Account::Refunds => "Refunds",
            Account::Fees => "Fees",
            Account::WriteOffs => "Write-offs",
            Account::Promotions => "Promotional credit",
        }
    }

    pub fn parse(code: &str) -> Option<Account> {
        Account::ALL.into_iter().find(|a| a.code() == code)
    }

    /// The account split by a party: `receivable:cus_…`.
    pub fn of(self, party: &str) -> AccountRef {
        AccountRef { account: self, party: party.to_string() }
    }

    /// The account as a whole, with no party.
    pub fn whole(self) -> AccountRef {
        AccountRef { account: self, party: String::new() }
    }
}

/// An account, possibly split by a party.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountRef {
    pub account: Account,
    pub party: String,
}

impl AccountRef {
    /// `code` or `code:party`, as stored.
    pub fn key(&self) -> String {
        if self.party.is_empty() {
            self.account.code().to_string()
        } else {
            format!("{}:{}", self.account.code(), self.party)
        }
    }

    pub fn parse(key: &str) -> Option<AccountRef> {
        let (code, party) = key.split_once(':').unwrap_or((key, ""));
        let party_ok = party.len() <= 80 && party.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        (party_ok && !(key.contains(':') && party.is_empty()))
            .then(|| Account::parse(code).map(|account| AccountRef { account, party: party.to_string() }))
            .flatten()
    }
}

/// One side of an entry: an amount (always positive) to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub account: AccountRef,
    pub currency: Currency,
    pub debit: i64,
    pub credit: i64,
}

/// Why an entry cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("an entry needs at least two lines")]
    TooFewLines,
    #[error("debits and credits differ in {0}")]
    Unbalanced(&'static str),
    #[error("amounts out of range")]
    Overflow,
}

/// A balanced journal entry: only [`EntryBuilder::build`] makes one, so
/// an unbalanced entry never reaches storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    lines: Vec<Line>,
}

impl Entry {
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// The entry that undoes this one: every line on the other side.
    pub fn reversal(&self) -> Entry {
        let lines = self.lines.iter().map(|l| Line { debit: l.credit, credit: l.debit, ..l.clone() }).collect();
        Entry { lines }
    }
}

/// Collects lines; amounts of zero are dropped and a negative amount goes
/// to the other side, so callers can post computed figures as they are.
#[derive(Debug, Default)]
pub struct EntryBuilder {
    lines: Vec<Line>,
    overflow: bool,
}

impl EntryBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn debit(mut self, account: AccountRef, currency: Currency, amount: i64) -> Self {
        self.push(account, currency, amount, true);
        self
    }

    pub fn credit(mut self, account: AccountRef, currency: Currency, amount: i64) -> Self {
        self.push(account, currency, amount, false);
        self
    }

    fn push(&mut self, account: AccountRef, currency: Currency, amount: i64, debit: bool) {
        if amount == 0 {
            return;
        }
        if amount == i64::MIN {
            self.overflow = true;
            return;
        }
        let debit = debit == (amount > 0);
        let a = amount.abs();
        let (debit, credit) = if debit { (a, 0) } else { (0, a) };
        self.lines.push(Line { account, currency, debit, credit });
    }

    pub fn build(self) -> Result<Entry, EntryError> {
        if self.overflow {
            return Err(EntryError::Overflow);
        }
        if self.lines.len() < 2 {
            return Err(EntryError::TooFewLines);
        }
        for (currency, net) in net_by_currency(&self.lines)? {
            if net != 0 {
                return Err(EntryError::Unbalanced(currency.code()));
            }
        }
        Ok(Entry { lines: self.lines })
    }
}

/// Debits minus credits per currency (zero for a balanced set of lines).
pub fn net_by_currency(lines: &[Line]) -> Result<BTreeMap<Currency, i64>, EntryError> {
    let mut net: BTreeMap<Currency, i64> = BTreeMap::new();
    for l in lines {
        let slot = net.entry(l.currency).or_default();
        *slot = slot.checked_add(l.debit).and_then(|s| s.checked_sub(l.credit)).ok_or(EntryError::Overflow)?;
    }
    Ok(net)
}

/// An order as the ledger sees it when it is placed.
#[derive(Debug, Clone)]
pub struct OrderFigures<'a> {
    pub currency: Currency,
    /// Who owes: a customer id, or the order id for a guest.
    pub party: &'a str,
    pub channel: &'a str,
    pub total: i64,
    pub shipping: i64,
    pub discount: i64,
    pub tax: i64,
}

/// Order placed: the buyer owes the total; income is what remains once tax
/// is set aside and shipping counted on its own; discounts are shown, not
/// netted away. None for an order with nothing to record (all free).
pub fn order_placed(o: &OrderFigures) -> Result<Option<Entry>, EntryError> {
    if [o.total, o.shipping, o.discount, o.tax].iter().all(|x| *x == 0) {
        return Ok(None);
    }
    let revenue = o
        .total
        .checked_sub(o.tax)
        .and_then(|r| r.checked_sub(o.shipping))
        .and_then(|r| r.checked_add(o.discount))
        .ok_or(EntryError::Overflow)?;
    EntryBuilder::new()
        .debit(Account::Receivable.of(o.party), o.currency, o.total)
        .debit(Account::Discounts.of(o.channel), o.currency, o.discount)
        .credit(Account::Revenue.of(o.channel), o.currency, revenue)
        .credit(Account::ShippingIncome.whole(), o.currency, o.shipping)
        .credit(Account::TaxPayable.whole(), o.currency, o.tax)
        .build()
        .map(Some)
}

/// Where received money sits until it reaches the bank, by payment method.
/// A payment from a balance the store owes (a gift card, store credit)
/// lowers that liability instead: `holder` names the card or customer.
pub fn holding_account(provider: &str, holder: &str) -> AccountRef {
    match provider {
        "bank_transfer" | "invoice" => Account::Bank.whole(),
        "cash_on_delivery" => Account::Cash.whole(),
        "store_credit" => Account::StoreCredit.of(holder),
        "gift_card" => Account::GiftCards.of(holder),
        other => Account::Clearing.of(other),
    }
}

/// Money captured for what a buyer owes.
pub fn payment_captured(
    holding: AccountRef,
    party: &str,
    currency: Currency,
    amount: i64,
) -> Result<Entry, EntryError> {
    EntryBuilder::new().debit(holding, currency, amount).credit(Account::Receivable.of(party), currency, amount).build()
}

/// Money returned to a buyer through the method it came by: a refund
/// expense of the channel, or (when the sale was already reversed, a
/// cancelled order) what the buyer was owed (`Receivable` of the party).
pub fn refunded(
    charged_to: AccountRef,
    holding: AccountRef,
    currency: Currency,
    amount: i64,
) -> Result<Entry, EntryError> {
    EntryBuilder::new().debit(charged_to, currency, amount).credit(holding, currency, amount).build()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const EUR: Currency = Currency::EUR;

    #[test]
    fn an_unbalanced_entry_cannot_be_built() {
        let e = EntryBuilder::new().debit(Account::Bank.whole(), EUR, 100).credit(Account::Receivable.of("x"), EUR, 99);
        assert_eq!(e.build(), Err(EntryError::Unbalanced("EUR")));
        let one = EntryBuilder::new().debit(Account::Bank.whole(), EUR, 100);
        assert_eq!(one.build(), Err(EntryError::TooFewLines));
        let mixed = EntryBuilder::new().debit(Account::Bank.whole(), EUR, 100).credit(
            Account::Receivable.of("x"),
            Currency::USD,
            100,
        );
        assert_eq!(mixed.build(), Err(EntryError::Unbalanced("EUR")), "balances per currency, never across");
    }

    #[test]
    fn negative_amounts_change_sides_and_zeros_drop() {
        let e = EntryBuilder::new()
            .debit(Account::Bank.whole(), EUR, -500)
            .credit(Account::Refunds.whole(), EUR, -500)
            .credit(Account::Fees.whole(), EUR, 0)
            .build()
            .unwrap();
        assert_eq!(e.lines().len(), 2);
        assert_eq!((e.lines()[0].debit, e.lines()[0].credit), (0, 500));
        assert_eq!((e.lines()[1].debit, e.lines()[1].credit), (500, 0));
    }

    #[test]
    fn an_order_splits_into_revenue_shipping_tax_and_discount() {
        // 100.00 of goods incl. 19 % VAT, 4.90 shipping, 10.00 off: 94.90 owed.
        let o = OrderFigures {
            currency: EUR,
            party: "cus_1",
            channel: "web",
            total: 9490,
            shipping: 490,
            discount: 1000,
            tax: 1515,
        };
        let e = order_placed(&o).unwrap().unwrap();
        let find = |key: &str| e.lines().iter().find(|l| l.account.key() == key).cloned().unwrap();
        assert_eq!(find("receivable:cus_1").debit, 9490);
        assert_eq!(find("discounts:web").debit, 1000);
        assert_eq!(find("revenue:web").credit, 9490 - 1515 - 490 + 1000);
        assert_eq!(find("tax_payable").credit, 1515);
        assert_eq!(find("shipping_income").credit, 490);
    }

    #[test]
    fn account_keys_round_trip_and_refuse_junk() {
        let r = Account::Receivable.of("cus_01abc");
        assert_eq!(AccountRef::parse(&r.key()), Some(r));
        assert_eq!(AccountRef::parse("bank"), Some(Account::Bank.whole()));
        assert_eq!(AccountRef::parse("bank:"), None);
        assert_eq!(AccountRef::parse("nope"), None);
        assert_eq!(AccountRef::parse("bank:a b"), None);
        assert_eq!(Account::Refunds.kind().balance(300, 100), 200);
        assert_eq!(Account::GiftCards.kind().balance(100, 300), 200);
    }

    fn account() -> impl Strategy<Value = AccountRef> {
        (0..Account::ALL.len(), "[a-z]{0,3}").prop_map(|(i, p)| AccountRef { account: Account::ALL[i], party: p })
    }

    proptest! {
        /// Whatever lines a caller proposes, an entry exists only if it
        /// balances in every currency, and its reversal balances too and
        /// cancels it.
        #[test]
        fn built_entries_always_balance(
            lines in prop::collection::vec((account(), 0..3usize, -1_000_000i64..1_000_000, any::<bool>()), 0..8)
        ) {
            let currencies = [Currency::EUR, Currency::USD, Currency::JPY];
            let mut b = EntryBuilder::new();
            for (a, c, amount, debit) in lines {
                b = if debit { b.debit(a, currencies[c], amount) } else { b.credit(a, currencies[c], amount) };
            }
            if let Ok(e) = b.build() {
                prop_assert!(net_by_currency(e.lines()).unwrap().values().all(|n| *n == 0));
                let mut both = e.lines().to_vec();
                both.extend(e.reversal().lines().iter().cloned());
                let mut per_account: BTreeMap<(String, Currency), i64> = BTreeMap::new();
                for l in &both {
                    *per_account.entry((l.account.key(), l.currency)).or_default() += l.debit - l.credit;
                }
                prop_assert!(per_account.values().all(|n| *n == 0));
            }
        }

        /// Order, payment and refund entries balance for any figures in range.
        #[test]
        fn business_entries_balance(total in 0i64..10_000_000, tax in 0i64..1_000_000, ship in 0i64..100_000,
                                    disc in 0i64..100_000, refund in 1i64..1_000_000) {
            let o = OrderFigures { currency: EUR, party: "p", channel: "web", total, shipping: ship, discount: disc, tax };
            let placed = order_placed(&o).unwrap();
            prop_assert_eq!(placed.is_none(), total == 0 && disc == 0 && tax == 0 && ship == 0);
            if total > 0 {
                prop_assert!(payment_captured(holding_account("test_card", ""), "p", EUR, total).is_ok());
            }
            prop_assert!(refunded(Account::Refunds.of("web"), holding_account("bank_transfer", ""), EUR, refund).is_ok());
        }
    }
}
