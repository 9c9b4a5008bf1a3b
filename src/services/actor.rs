//! Who is asking, and what they may do. Permission checks happen here, in
//! the service layer, so the API, the pages and the CLI agree.

use std::sync::Arc;

pub use crate::domain::access::{Permission, PermissionSet};
use crate::domain::stores::Store;

#[derive(Debug, Clone)]
pub enum Actor {
    Anonymous,
    /// A signed-in staff member with the permissions of their role.
    Staff {
        id: String,
        role: String,
        permissions: PermissionSet,
    },
    /// A machine using an API token scoped to some permissions.
    Token {
        id: String,
        permissions: PermissionSet,
    },
    Customer {
        id: String,
    },
}

impl Actor {
    /// Succeeds when the caller holds `p`; otherwise says why not.
    pub fn require(&self, p: Permission) -> Result<(), super::ServiceError> {
        match self {
            Actor::Staff { permissions, .. } | Actor::Token { permissions, .. } if permissions.contains(&p) => Ok(()),
            Actor::Staff { .. } | Actor::Token { .. } | Actor::Customer { .. } => {
                Err(super::ServiceError::Forbidden(p))
            }
            Actor::Anonymous => Err(super::ServiceError::Unauthenticated),
        }
    }

    pub fn customer_id(&self) -> Result<&str, super::ServiceError> {
        match self {
            Actor::Customer { id } => Ok(id),
            Actor::Anonymous => Err(super::ServiceError::Unauthenticated),
            _ => Err(super::ServiceError::Forbidden(Permission::CustomersRead)),
        }
    }

    /// The permissions held (empty for customers and anonymous callers).
    pub fn permissions(&self) -> PermissionSet {
        match self {
            Actor::Staff { permissions, .. } | Actor::Token { permissions, .. } => permissions.clone(),
            _ => PermissionSet::new(),
        }
    }

    /// A stable name for idempotency scoping, audit and logs.
    pub fn principal(&self) -> String {
        match self {
            Actor::Anonymous => "anonymous".into(),
            Actor::Staff { id, .. } | Actor::Token { id, .. } | Actor::Customer { id } => id.clone(),
        }
    }

    pub fn is_staff(&self) -> bool {
        matches!(self, Actor::Staff { .. })
    }
}

/// The request's context: which store, who is asking, and from where.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub store: Arc<Store>,
    pub actor: Actor,
    pub client_ip: String,
}

impl Ctx {
    pub fn system(store: Arc<Store>) -> Ctx {
        Ctx { store, actor: Actor::Anonymous, client_ip: "system".into() }
    }
}
