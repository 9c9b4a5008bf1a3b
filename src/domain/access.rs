//! Access rules: the permissions that exist, the built-in staff roles and
//! what each grants, and the rule for who may hand out which role.
//! Custom roles are any set of these permissions, composed by an owner.

use std::collections::BTreeSet;
use std::fmt;

macro_rules! permissions {
    ($($variant:ident = $code:literal : $doc:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Permission { $( #[doc = $doc] $variant, )* }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            pub fn code(self) -> &'static str {
                match self { $(Permission::$variant => $code,)* }
            }

            pub fn description(self) -> &'static str {
                match self { $(Permission::$variant => $doc,)* }
            }

            pub fn parse(code: &str) -> Option<Permission> {
                match code { $($code => Some(Permission::$variant),)* _ => None }
            }
        }
    };
}

permissions! {
    SettingsManage = "settings.manage": "Change the store's brand and settings",
    StaffRead = "staff.read": "See staff accounts and roles",
    StaffManage = "staff.manage": "Add staff and change their roles",
    RolesManage = "roles.manage": "Compose custom roles",
    TokensManage = "tokens.manage": "Create and revoke API tokens",
    AuditRead = "audit.read": "Read the audit log",
    WebhooksManage = "webhooks.manage": "Manage webhook endpoints and see deliveries",
    EventsRead = "events.read": "Read the store's event log",
    CustomersRead = "customers.read": "See customer accounts",
    CustomersManage = "customers.manage": "Change customer accounts, export and erase their data",
    CatalogRead = "catalog.read": "See products, including unpublished ones",
    CatalogManage = "catalog.manage": "Create and change products, prices and media",
    OrdersRead = "orders.read": "See orders",
    OrdersManage = "orders.manage": "Edit, fulfil, cancel and return orders",
    InventoryRead = "inventory.read": "See stock levels and movements",
    InventoryManage = "inventory.manage": "Adjust and transfer stock",
    PaymentsRead = "payments.read": "See payments",
    PaymentsManage = "payments.manage": "Capture, void and refund payments",
    LedgerRead = "ledger.read": "See the ledger, invoices and financial reports",
    ReportsRead = "reports.read": "See reports and analytics",
    SupportManage = "support.manage": "Answer inquiries and handle support cases",
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

pub type PermissionSet = BTreeSet<Permission>;

/// The built-in roles every store has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinRole {
    Owner,
    Administrator,
    CatalogManager,
    OrderManager,
    Warehouse,
    SupportAgent,
    Accountant,
    Analyst,
}

impl BuiltinRole {
    pub const ALL: [BuiltinRole; 8] = [
        BuiltinRole::Owner,
        BuiltinRole::Administrator,
        BuiltinRole::CatalogManager,
        BuiltinRole::OrderManager,
        BuiltinRole::Warehouse,
        BuiltinRole::SupportAgent,
        BuiltinRole::Accountant,
        BuiltinRole::Analyst,
    ];

    pub fn key(self) -> &'static str {
        match self {
            BuiltinRole::Owner => "owner",
            BuiltinRole::Administrator => "administrator",
            BuiltinRole::CatalogManager => "catalog_manager",
            BuiltinRole::OrderManager => "order_manager",
            BuiltinRole::Warehouse => "warehouse",
            BuiltinRole::SupportAgent => "support_agent",
            BuiltinRole::Accountant => "accountant",
            BuiltinRole::Analyst => "analyst",
        }
    }

    pub fn parse(key: &str) -> Option<BuiltinRole> {
        BuiltinRole::ALL.into_iter().find(|r| r.key() == key)
    }

    pub fn permissions(self) -> PermissionSet {
        use Permission::*;
        let list: &[Permission] = match self {
            BuiltinRole::Owner => Permission::ALL,
            // Everything but composing roles, which stays with owners.
            BuiltinRole::Administrator => &[
                SettingsManage,
                StaffRead,
                StaffManage,
                TokensManage,
                AuditRead,
                WebhooksManage,
                EventsRead,
                CustomersRead,
                CustomersManage,
                CatalogRead,
                CatalogManage,
                OrdersRead,
                OrdersManage,
                InventoryRead,
                InventoryManage,
                PaymentsRead,
                PaymentsManage,
                LedgerRead,
                ReportsRead,
                SupportManage,
            ],
            BuiltinRole::CatalogManager => &[CatalogRead, CatalogManage, InventoryRead, ReportsRead],
            BuiltinRole::OrderManager => &[OrdersRead, OrdersManage, CustomersRead, InventoryRead, PaymentsRead],
            BuiltinRole::Warehouse => &[InventoryRead, InventoryManage, OrdersRead, CatalogRead],
            BuiltinRole::SupportAgent => &[CustomersRead, OrdersRead, SupportManage, CatalogRead],
            BuiltinRole::Accountant => &[PaymentsRead, LedgerRead, ReportsRead, OrdersRead],
            BuiltinRole::Analyst => &[ReportsRead, OrdersRead, CatalogRead, InventoryRead, EventsRead],
        };
        list.iter().copied().collect()
    }
}

/// Parses permission codes, naming every unknown one.
pub fn parse_permissions(codes: &[String]) -> Result<PermissionSet, Vec<String>> {
    let unknown: Vec<String> = codes.iter().filter(|c| Permission::parse(c).is_none()).cloned().collect();
    if unknown.is_empty() { Ok(codes.iter().filter_map(|c| Permission::parse(c)).collect()) } else { Err(unknown) }
}

/// Whether someone holding `granter` may hand out a role granting `granted`:
/// never more than they hold themselves (no escalation by delegation).
pub fn may_grant(granter: &PermissionSet, granted: &PermissionSet) -> bool {
    granted.is_subset(granter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.code()), Some(*p));
            assert!(seen.insert(p.code()));
        }
    }

    #[test]
    fn owner_holds_everything_and_only_owner_composes_roles() {
        assert_eq!(BuiltinRole::Owner.permissions().len(), Permission::ALL.len());
        for r in BuiltinRole::ALL {
            assert_eq!(r.permissions().contains(&Permission::RolesManage), r == BuiltinRole::Owner, "{r:?}");
        }
    }

    #[test]
    fn read_only_analyst_cannot_change_anything() {
        assert!(BuiltinRole::Analyst.permissions().iter().all(|p| p.code().ends_with(".read")));
    }

    #[test]
    fn delegation_never_escalates() {
        let admin = BuiltinRole::Administrator.permissions();
        assert!(may_grant(&admin, &BuiltinRole::Warehouse.permissions()));
        assert!(!may_grant(&admin, &BuiltinRole::Owner.permissions()));
        assert!(!may_grant(&BuiltinRole::Warehouse.permissions(), &BuiltinRole::Accountant.permissions()));
    }

    #[test]
    fn unknown_permission_codes_are_named() {
        assert_eq!(parse_permissions(&["orders.read".into(), "root".into()]), Err(vec!["root".to_string()]));
    }
}
