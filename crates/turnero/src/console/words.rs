//! What the console says, in Spanish, Portuguese and English (the staff member's choice).

use serde::Serialize;

/// Every phrase a console page shows; templates read them as `t.name`.
#[derive(Serialize)]
pub struct Words {
    pub title: &'static str,
    pub sign_in: &'static str,
    pub sign_out: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub wrong_password: &'static str,
    /// `{minutes}` is replaced.
    pub locked: &'static str,
    pub csrf_refused: &'static str,
    pub not_found: &'static str,
    pub back: &'static str,
    pub agenda: &'static str,
    pub day: &'static str,
    pub week: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub today: &'static str,
    pub all_calendars: &'static str,
    pub calendar: &'static str,
    pub show: &'static str,
    pub nothing_booked: &'static str,
    pub confirm: &'static str,
    pub cancel: &'static str,
    pub signed_in_as: &'static str,
    pub held: &'static str,
    pub pending: &'static str,
    pub confirmed: &'static str,
    pub completed: &'static str,
    pub no_show: &'static str,
    pub canceled: &'static str,
    pub expired: &'static str,
    pub time_zone: &'static str,
}

const ES: Words = Words {
    title: "Consola de turnero",
    sign_in: "Ingresar",
    sign_out: "Salir",
    email: "Correo electrónico",
    password: "Contraseña",
    wrong_password: "El correo o la contraseña no son correctos.",
    locked: "Demasiados intentos fallidos: la cuenta queda bloqueada {minutes} minutos.",
    csrf_refused: "El formulario venció o no vino de esta página. Volvé a intentarlo.",
    not_found: "No existe o no tenés acceso.",
    back: "Volver a la agenda",
    agenda: "Agenda",
    day: "Día",
    week: "Semana",
    previous: "Anterior",
    next: "Siguiente",
    today: "Hoy",
    all_calendars: "Todas las agendas",
    calendar: "Agenda",
    show: "Mostrar",
    nothing_booked: "Sin turnos",
    confirm: "Confirmar",
    cancel: "Cancelar",
    signed_in_as: "Sesión de",
    held: "reservado",
    pending: "pendiente",
    confirmed: "confirmado",
    completed: "atendido",
    no_show: "ausente",
    canceled: "cancelado",
    expired: "vencido",
    time_zone: "Huso horario",
};

const PT: Words = Words {
    title: "Console do turnero",
    sign_in: "Entrar",
    sign_out: "Sair",
    email: "E-mail",
    password: "Senha",
    wrong_password: "O e-mail ou a senha não estão corretos.",
    locked: "Tentativas demais: a conta fica bloqueada por {minutes} minutos.",
    csrf_refused: "O formulário expirou ou não veio desta página. Tente de novo.",
    not_found: "Não existe ou você não tem acesso.",
    back: "Voltar à agenda",
    agenda: "Agenda",
    day: "Dia",
    week: "Semana",
    previous: "Anterior",
    next: "Próximo",
    today: "Hoje",
    all_calendars: "Todas as agendas",
    calendar: "Agenda",
    show: "Mostrar",
    nothing_booked: "Sem horários marcados",
    confirm: "Confirmar",
    cancel: "Cancelar",
    signed_in_as: "Sessão de",
    held: "reservado",
    pending: "pendente",
    confirmed: "confirmado",
    completed: "atendido",
    no_show: "faltou",
    canceled: "cancelado",
    expired: "expirado",
    time_zone: "Fuso horário",
};

const EN: Words = Words {
    title: "turnero console",
    sign_in: "Sign in",
    sign_out: "Sign out",
    email: "Email",
    password: "Password",
    wrong_password: "The email or the password is not right.",
    locked: "Too many failed attempts: the account is locked for {minutes} minutes.",
    csrf_refused: "The form expired or did not come from this page. Please try again.",
    not_found: "It does not exist or you have no access to it.",
    back: "Back to the agenda",
    agenda: "Agenda",
    day: "Day",
    week: "Week",
    previous: "Previous",
    next: "Next",
    today: "Today",
    all_calendars: "All calendars",
    calendar: "Calendar",
    show: "Show",
    nothing_booked: "Nothing booked",
    confirm: "Confirm",
    cancel: "Cancel",
    signed_in_as: "Signed in as",
    held: "held",
    pending: "pending",
    confirmed: "confirmed",
    completed: "completed",
    no_show: "no-show",
    canceled: "canceled",
    expired: "expired",
    time_zone: "Time zone",
};

pub fn of(locale: &str) -> &'static Words {
    match locale {
        "pt" => &PT,
        "en" => &EN,
        _ => &ES,
    }
}

/// The page's `lang` attribute.
pub fn lang(locale: &str) -> &'static str {
    match locale {
        "pt" => "pt-BR",
        "en" => "en",
        _ => "es",
    }
}

impl Words {
    /// A booking status as staff read it.
    pub fn status(&self, status: &str) -> &'static str {
        match status {
            "held" => self.held,
            "pending" => self.pending,
            "confirmed" => self.confirmed,
            "completed" => self.completed,
            "no_show" => self.no_show,
            "canceled" => self.canceled,
            _ => self.expired,
        }
    }
}
