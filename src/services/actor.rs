//! Who is asking, and what they may do. Permission checks happen here, in
//! the service layer, so the API, the pages and the CLI agree.

use std::fmt;

use crate::domain::stores::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Change the store's brand and settings.
    SettingsManage,
    /// Create, delete and inspect webhook endpoints and deliveries.
    WebhooksManage,
    /// Read the store's event log.
    EventsRead,
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Permission::SettingsManage => "settings.manage",
            Permission::WebhooksManage => "webhooks.manage",
            Permission::EventsRead => "events.read",
        })
    }
}

/// Staff roles. The identity work extends this to the full role set and
/// custom roles; until then owners and administrators hold everything and
/// analysts only read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Owner,
    Administrator,
    Analyst,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "administrator" => Some(Role::Administrator),
            "analyst" => Some(Role::Analyst),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Administrator => "administrator",
            Role::Analyst => "analyst",
        }
    }

    pub fn grants(self, p: Permission) -> bool {
        match self {
            Role::Owner | Role::Administrator => true,
            Role::Analyst => matches!(p, Permission::EventsRead),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Actor {
    Anonymous,
    Staff { id: String, role: Role },
    Customer { id: String },
}

impl Actor {
    /// The staff member's id if they hold `p`, else the matching error.
    pub fn require(&self, p: Permission) -> Result<&str, super::ServiceError> {
        match self {
            Actor::Staff { id, role } if role.grants(p) => Ok(id),
            Actor::Staff { .. } | Actor::Customer { .. } => Err(super::ServiceError::Forbidden(p)),
            Actor::Anonymous => Err(super::ServiceError::Unauthenticated),
        }
    }

    pub fn customer_id(&self) -> Result<&str, super::ServiceError> {
        match self {
            Actor::Customer { id } => Ok(id),
            _ => Err(super::ServiceError::Unauthenticated),
        }
    }

    /// A stable name for idempotency scoping and logs.
    pub fn principal(&self) -> String {
        match self {
            Actor::Anonymous => "anonymous".into(),
            Actor::Staff { id, .. } => id.clone(),
            Actor::Customer { id } => id.clone(),
        }
    }
}

/// The request's context: which store, and who is asking.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub store: std::sync::Arc<Store>,
    pub actor: Actor,
}
