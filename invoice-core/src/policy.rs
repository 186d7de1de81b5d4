//! Who may do what: actors, roles and the policy that maps actions to roles.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A person's role in the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the back office; by default the only role that posts, exports, processes and undoes.
    Administrator,
    /// Creates, issues, sends and batches invoices; records payments.
    Finance,
    /// Approves time of their projects.
    ProjectManager,
    /// Submits time.
    Consultant,
    /// Reads only.
    Viewer,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Administrator => "administrator",
            Role::Finance => "finance",
            Role::ProjectManager => "project_manager",
            Role::Consultant => "consultant",
            Role::Viewer => "viewer",
        })
    }
}

/// Someone who applies commands to the book.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    /// The person's id in the host application.
    pub id: String,
    /// Their role.
    pub role: Role,
}

impl Actor {
    /// An actor with an id and a role.
    pub fn new(id: impl Into<String>, role: Role) -> Actor {
        Actor { id: id.into(), role }
    }
}

/// Something a policy allows or forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Create and edit drafts and issued invoices, credit notes and adjustments.
    EditInvoices,
    /// Issue invoices (numbers are assigned).
    Issue,
    /// Void invoices.
    Void,
    /// Mark invoices ready to send and sent.
    Deliver,
    /// Record payments.
    RecordPayments,
    /// Create and discard export batches.
    Batch,
    /// Post and unpost export batches.
    Post,
    /// Record export results, re-run failures, bypass, withdraw failed invoices.
    Export,
    /// Process invoices (import confirmed) and un-process one.
    Process,
    /// Undo the last process batch.
    Undo,
    /// Record the accounting system's reference number.
    RecordReference,
    /// Set up projects, people, milestones, deferred items and the approval-flows setting.
    ManageProjects,
    /// Record, edit and lock time; record and submit expenses (consultants: their own).
    SubmitTime,
    /// Approve time, expenses and milestones (project managers: of their projects).
    ApproveTime,
    /// Generate the invoices of ready projects.
    Generate,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::EditInvoices => "edit invoices",
            Action::Issue => "issue invoices",
            Action::Void => "void invoices",
            Action::Deliver => "mark invoices sent",
            Action::RecordPayments => "record payments",
            Action::Batch => "batch invoices",
            Action::Post => "post batches",
            Action::Export => "export batches",
            Action::Process => "process invoices",
            Action::Undo => "undo process batches",
            Action::RecordReference => "record accounting references",
            Action::ManageProjects => "manage projects",
            Action::SubmitTime => "record time",
            Action::ApproveTime => "approve time",
            Action::Generate => "generate invoices",
        })
    }
}

/// Which roles may perform which actions.
///
/// The default lets administrators do everything; finance everything but posting,
/// exporting, processing, undo and approving time; project managers record and approve time;
/// consultants record and lock their own time. Viewers change nothing.
///
/// ```
/// use invoice_core::{Action, Policy, Role};
/// let mut policy = Policy::default();
/// assert!(!policy.allows(Role::Finance, Action::Post));
/// policy.grant(Role::Finance, Action::Post);
/// assert!(policy.allows(Role::Finance, Action::Post));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    rules: BTreeMap<Action, BTreeSet<Role>>,
}

impl Default for Policy {
    fn default() -> Policy {
        use Action::*;
        let mut policy = Policy { rules: BTreeMap::new() };
        let everything = [
            EditInvoices,
            Issue,
            Void,
            Deliver,
            RecordPayments,
            Batch,
            Post,
            Export,
            Process,
            Undo,
            RecordReference,
            ManageProjects,
            SubmitTime,
            ApproveTime,
            Generate,
        ];
        for action in everything {
            policy.grant(Role::Administrator, action);
        }
        let finance = [
            EditInvoices,
            Issue,
            Void,
            Deliver,
            RecordPayments,
            Batch,
            RecordReference,
            ManageProjects,
            SubmitTime,
            Generate,
        ];
        for action in finance {
            policy.grant(Role::Finance, action);
        }
        policy.grant(Role::ProjectManager, SubmitTime).grant(Role::ProjectManager, ApproveTime);
        policy.grant(Role::Consultant, SubmitTime);
        policy
    }
}

impl Policy {
    /// A policy that allows nothing.
    pub fn empty() -> Policy {
        Policy { rules: BTreeMap::new() }
    }

    /// Allow `role` to perform `action`.
    pub fn grant(&mut self, role: Role, action: Action) -> &mut Policy {
        self.rules.entry(action).or_default().insert(role);
        self
    }

    /// Forbid `role` to perform `action`.
    pub fn revoke(&mut self, role: Role, action: Action) -> &mut Policy {
        if let Some(roles) = self.rules.get_mut(&action) {
            roles.remove(&role);
        }
        self
    }

    /// True when `role` may perform `action`.
    pub fn allows(&self, role: Role, action: Action) -> bool {
        self.rules.get(&action).is_some_and(|r| r.contains(&role))
    }

    /// `Ok` when `actor` may perform `action`, else [`Error::Forbidden`].
    pub fn check(&self, actor: &Actor, action: Action) -> Result<()> {
        if self.allows(actor.role, action) {
            Ok(())
        } else {
            Err(Error::Forbidden { actor: actor.id.clone(), role: actor.role, action })
        }
    }
}
