//! What the console says, in Spanish, Portuguese and English (the staff member's choice).
//!
//! One line per phrase: its key, then the three languages. Templates read a phrase as
//! `t.key` (a `Words` is a minijinja object); Rust code as `t.get("key")`. A test holds every
//! `t.key` in the templates to a line here, so a missing phrase fails the suite rather than
//! showing nothing.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use minijinja::value::{Object, Value};

/// Key, then Spanish, Portuguese, English.
#[rustfmt::skip]
const PHRASES: &[(&str, [&str; 3])] = &[
    ("title", ["Consola de turnero", "Console do turnero", "turnero console"]),
    ("sign_in", ["Ingresar", "Entrar", "Sign in"]),
    ("sign_out", ["Salir", "Sair", "Sign out"]),
    ("email", ["Correo electrónico", "E-mail", "Email"]),
    ("password", ["Contraseña", "Senha", "Password"]),
    ("wrong_password", ["El correo o la contraseña no son correctos.", "O e-mail ou a senha não estão corretos.", "The email or the password is not right."]),
    ("locked", ["Demasiados intentos fallidos: la cuenta queda bloqueada {minutes} minutos.", "Tentativas demais: a conta fica bloqueada por {minutes} minutos.", "Too many failed attempts: the account is locked for {minutes} minutes."]),
    ("csrf_refused", ["El formulario venció o no vino de esta página. Volvé a intentarlo.", "O formulário expirou ou não veio desta página. Tente de novo.", "The form expired or did not come from this page. Please try again."]),
    ("not_found", ["No existe o no tenés acceso.", "Não existe ou você não tem acesso.", "It does not exist or you have no access to it."]),
    ("back", ["Volver a la agenda", "Voltar à agenda", "Back to the agenda"]),
    ("agenda", ["Agenda", "Agenda", "Agenda"]),
    ("day", ["Día", "Dia", "Day"]),
    ("week", ["Semana", "Semana", "Week"]),
    ("previous", ["Anterior", "Anterior", "Previous"]),
    ("next", ["Siguiente", "Próximo", "Next"]),
    ("today", ["Hoy", "Hoje", "Today"]),
    ("all_calendars", ["Todas las agendas", "Todas as agendas", "All calendars"]),
    ("calendar", ["Agenda", "Agenda", "Calendar"]),
    ("show", ["Mostrar", "Mostrar", "Show"]),
    ("nothing_booked", ["Sin turnos", "Sem horários marcados", "Nothing booked"]),
    ("confirm", ["Confirmar", "Confirmar", "Confirm"]),
    ("cancel", ["Cancelar", "Cancelar", "Cancel"]),
    ("signed_in_as", ["Sesión de", "Sessão de", "Signed in as"]),
    ("held", ["reservado", "reservado", "held"]),
    ("pending", ["pendiente", "pendente", "pending"]),
    ("confirmed", ["confirmado", "confirmado", "confirmed"]),
    ("completed", ["atendido", "atendido", "completed"]),
    ("no_show", ["ausente", "faltou", "no-show"]),
    ("canceled", ["cancelado", "cancelado", "canceled"]),
    ("expired", ["vencido", "expirado", "expired"]),
    ("time_zone", ["Huso horario", "Fuso horário", "Time zone"]),
    ("free", ["Horarios libres", "Horários livres", "Free times"]),
    ("book", ["Dar turno", "Marcar", "Book"]),
    ("patient_name", ["Nombre del paciente", "Nome do paciente", "Patient's name"]),
    ("phone", ["Teléfono", "Telefone", "Phone"]),
    ("email_optional", ["Correo electrónico (opcional)", "E-mail (opcional)", "Email (optional)"]),
    ("service", ["Servicio", "Serviço", "Service"]),
    ("minutes", ["min", "min", "min"]),
    ("name_and_phone", ["Faltan el nombre o el teléfono del paciente.", "Faltam o nome ou o telefone do paciente.", "The patient's name or phone is missing."]),
    ("slot_taken", ["Ese horario ya no está libre: elegí otro.", "Esse horário não está mais livre: escolha outro.", "That time is no longer free: pick another."]),
    ("closed_then", ["La agenda no atiende a esa hora.", "A agenda não atende nesse horário.", "The calendar is closed at that time."]),
    ("outside_window", ["Ese horario está fuera del período en que se puede reservar.", "Esse horário está fora do período em que se pode marcar.", "That time is outside the period open for booking."]),
    ("bad_phone", ["El teléfono no es válido.", "O telefone não é válido.", "The phone number is not valid."]),
    ("bad_change", ["El turno ya no admite ese cambio.", "O agendamento não aceita mais essa mudança.", "The booking no longer allows that change."]),
    ("booking", ["Turno", "Agendamento", "Booking"]),
    ("mark_completed", ["Marcar atendido", "Marcar como atendido", "Mark completed"]),
    ("mark_no_show", ["Marcar ausente", "Marcar falta", "Mark no-show"]),
    ("move", ["Mover el turno", "Remarcar", "Move the booking"]),
    ("move_to", ["Mover a las", "Remarcar para", "Move to"]),
    ("show_free", ["Ver horarios libres", "Ver horários livres", "Show free times"]),
    ("no_free_times", ["No hay horarios libres ese día.", "Não há horários livres nesse dia.", "No free times that day."]),
    ("pick_a_time", ["Elegí un horario.", "Escolha um horário.", "Pick a time."]),
    ("details", ["Datos del turno", "Dados do agendamento", "Details"]),
    ("notes", ["Notas", "Observações", "Notes"]),
    ("cancel_reason", ["Motivo de la cancelación", "Motivo do cancelamento", "Why it was canceled"]),
    ("external_refs", ["En otros sistemas", "Em outros sistemas", "In other systems"]),
    ("history", ["Historial", "Histórico", "History"]),
    ("when", ["Cuándo", "Quando", "When"]),
    ("change", ["Cambio", "Mudança", "Change"]),
    ("by", ["Desde", "Origem", "By"]),
    ("detail", ["Detalle", "Detalhe", "Detail"]),
    ("created", ["creado", "criado", "created"]),
    ("moved", ["movido", "remarcado", "moved"]),
    ("released", ["liberado", "liberado", "released"]),
    ("open", ["Abrir", "Abrir", "Open"]),
    ("feed", ["Calendario en el celular", "Agenda no celular", "Calendar feed"]),
    ("feed_about", ["Suscribite desde Google Calendar, Apple o Outlook con esta dirección privada: muestra tus turnos y sigue los cambios.", "Assine no Google Agenda, Apple ou Outlook com este endereço privado: mostra seus horários e acompanha as mudanças.", "Subscribe from Google Calendar, Apple or Outlook with this private address: it shows your bookings and follows their changes."]),
    ("feed_new_address", ["Tu nueva dirección", "Seu novo endereço", "Your new address"]),
    ("feed_copy_now", ["Copiala ahora: no se vuelve a mostrar. Quien la tenga ve tus turnos.", "Copie agora: ele não é mostrado de novo. Quem tiver o endereço vê seus horários.", "Copy it now: it is not shown again. Whoever has it sees your bookings."]),
    ("feed_address", ["Dirección del calendario", "Endereço da agenda", "Calendar address"]),
    ("feed_active_since", ["Tenés una dirección activa desde", "Você tem um endereço ativo desde", "You have an address in use since"]),
    ("feed_none", ["Todavía no tenés una dirección.", "Você ainda não tem um endereço.", "You have no address yet."]),
    ("feed_make", ["Crear la dirección", "Criar o endereço", "Make the address"]),
    ("feed_replace", ["Crear una nueva (la anterior deja de funcionar)", "Criar um novo (o anterior para de funcionar)", "Make a new one (the old one stops working)"]),
    ("feed_revoke", ["Revocar la dirección", "Revogar o endereço", "Revoke the address"]),
    ("webhooks", ["Integraciones", "Integrações", "Integrations"]),
    ("webhook", ["Webhook", "Webhook", "Webhook"]),
    ("address", ["Dirección", "Endereço", "Address"]),
    ("state", ["Estado", "Estado", "State"]),
    ("on", ["activo", "ativo", "on"]),
    ("off", ["apagado", "desligado", "off"]),
    ("paused", ["en pausa por errores", "pausado por erros", "paused after errors"]),
    ("until", ["hasta", "até", "until"]),
    ("events", ["Eventos", "Eventos", "Events"]),
    ("turn_on", ["Activar", "Ativar", "Turn on"]),
    ("turn_off", ["Apagar", "Desligar", "Turn off"]),
    ("send_test", ["Enviar una prueba", "Enviar um teste", "Send a test"]),
    ("rotate_secret", ["Cambiar el secreto", "Trocar o segredo", "Rotate the secret"]),
    ("new_secret", ["Secreto nuevo", "Segredo novo", "New secret"]),
    ("new_secret_once", ["Copialo ahora: no se vuelve a mostrar. El anterior sigue firmando 24 horas.", "Copie agora: ele não é mostrado de novo. O anterior continua assinando por 24 horas.", "Copy it now: it is not shown again. The previous one keeps signing for 24 hours."]),
    ("secret", ["Secreto", "Segredo", "Secret"]),
    ("last_30_minutes", ["Últimos 30 minutos", "Últimos 30 minutos", "Last 30 minutes"]),
    ("ok", ["correctas", "corretas", "ok"]),
    ("slow", ["lentas", "lentas", "slow"]),
    ("error", ["con error", "com erro", "error"]),
    ("rejected", ["rechazadas (en pausa)", "rejeitadas (pausa)", "rejected (paused)"]),
    ("fastest", ["Más rápida", "Mais rápida", "Fastest"]),
    ("average", ["Promedio", "Média", "Average"]),
    ("slowest", ["Más lenta", "Mais lenta", "Slowest"]),
    ("waiting", ["En espera", "Na fila", "Waiting"]),
    ("gave_up", ["Abandonadas", "Abandonadas", "Given up"]),
    ("recover", ["Recuperar", "Recuperar", "Recover"]),
    ("recover_since_hours", ["Reenviar lo que falló en las últimas horas", "Reenviar o que falhou nas últimas horas", "Send again what failed in the last hours"]),
    ("error_log", ["Registro de errores", "Registro de erros", "Error log"]),
    ("attempt", ["intento", "tentativa", "attempt"]),
    ("resend", ["Reenviar", "Reenviar", "Resend"]),
    ("no_errors", ["Sin errores.", "Sem erros.", "No errors."]),
    ("no_webhooks", ["Todavía no hay integraciones.", "Ainda não há integrações.", "No integrations yet."]),
    ("done_on", ["Activado.", "Ativado.", "Turned on."]),
    ("done_off", ["Apagado.", "Desligado.", "Turned off."]),
    ("done_test", ["Prueba enviada.", "Teste enviado.", "Test sent."]),
    ("done_resend", ["Reenviado.", "Reenviado.", "Sent again."]),
    ("done_recover", ["Lo que falló vuelve a la cola.", "O que falhou voltou para a fila.", "What failed is queued again."]),
    ("not_started", ["El turno todavía no empezó.", "O horário ainda não começou.", "The appointment has not started yet."]),
    ("conversations", ["Conversaciones", "Conversas", "Conversations"]),
    ("waiting_for_person", ["espera a una persona", "espera uma pessoa", "waiting for a person"]),
    ("with_the_bot", ["con el asistente", "com o assistente", "with the bot"]),
    ("no_conversations", ["Todavía no hay conversaciones.", "Ainda não há conversas.", "No conversations yet."]),
    ("take_over", ["Atender yo", "Assumir a conversa", "Take over"]),
    ("hand_back", ["Devolver al asistente", "Devolver ao assistente", "Hand back to the bot"]),
    ("patient", ["Paciente", "Paciente", "Patient"]),
    ("bot", ["Asistente", "Assistente", "Bot"]),
    ("staff", ["Equipo", "Equipe", "Staff"]),
    ("not_delivered", ["no entregado", "não entregue", "not delivered"]),
    ("answer", ["Responder", "Responder", "Answer"]),
    ("message", ["Mensaje", "Mensagem", "Message"]),
    ("send", ["Enviar", "Enviar", "Send"]),
    ("reply_takes_over", ["Al responder, el asistente deja de contestar hasta que lo devuelvas.", "Ao responder, o assistente para de responder até você devolver a conversa.", "Replying takes the conversation over: the bot stays quiet until you hand it back."]),
    ("window_closed", ["La persona escribió hace más de 24 horas: WhatsApp solo deja enviar una plantilla aprobada.", "A pessoa escreveu há mais de 24 horas: o WhatsApp só permite enviar um modelo aprovado.", "The person last wrote more than 24 hours ago: WhatsApp only allows an approved template."]),
    ("template", ["Plantilla", "Modelo", "Template"]),
    ("template_parameters", ["Valores de la plantilla, uno por línea", "Valores do modelo, um por linha", "The template's values, one per line"]),
    ("no_templates", ["El canal no tiene plantillas aprobadas.", "O canal não tem modelos aprovados.", "The channel has no approved templates."]),
    ("flow", ["Conversación del asistente", "Conversa do assistente", "The bot's flow"]),
    ("flow_built_in", ["Las conversaciones nuevas usan el flujo incluido.", "As conversas novas usam o fluxo incluído.", "New conversations use the built-in flow."]),
    ("flow_version", ["Las conversaciones nuevas usan la versión", "As conversas novas usam a versão", "New conversations use version"]),
    ("flow_imported", ["Importado: las conversaciones nuevas usan la versión", "Importado: as conversas novas usam a versão", "Imported: new conversations use version"]),
    ("flow_download", ["Descargar el documento", "Baixar o documento", "Download the document"]),
    ("flow_problems", ["El documento no se importó: corregí estos problemas", "O documento não foi importado: corrija estes problemas", "The document was not imported: fix these problems"]),
    ("flow_document", ["Documento del flujo (JSON)", "Documento do fluxo (JSON)", "The flow document (JSON)"]),
    ("flow_import", ["Importar", "Importar", "Import"]),
    ("flow_reset", ["Volver al flujo incluido", "Voltar ao fluxo incluído", "Go back to the built-in flow"]),
    ("team", ["Equipo", "Equipe", "Team"]),
    ("role", ["Rol", "Função", "Role"]),
    ("role_admin", ["administración", "administração", "admin"]),
    ("role_reception", ["recepción", "recepção", "reception"]),
    ("role_professional", ["profesional", "profissional", "professional"]),
    ("language", ["Idioma", "Idioma", "Language"]),
    ("actions", ["Acciones", "Ações", "Actions"]),
    ("you", ["vos", "você", "you"]),
    ("new_password", ["Nueva contraseña", "Nova senha", "New password"]),
    ("remove", ["Quitar", "Remover", "Remove"]),
    ("add_person", ["Agregar una persona", "Adicionar uma pessoa", "Add a person"]),
    ("own_calendars", ["Sus agendas (solo profesionales)", "Suas agendas (só profissionais)", "Their calendars (professionals only)"]),
    ("password_for", ["Contraseña de", "Senha de", "Password for"]),
    ("password_once", ["Pasásela ahora: no se vuelve a mostrar. Sus sesiones anteriores se cerraron.", "Passe agora: ela não é mostrada de novo. As sessões anteriores foram encerradas.", "Give it to them now: it is not shown again. Their earlier sessions have ended."]),
    ("last_admin", ["La clínica necesita al menos una persona con administración.", "A clínica precisa de pelo menos uma pessoa na administração.", "A clinic keeps at least one admin."]),
    ("email_taken", ["Ya hay una cuenta con ese correo.", "Já existe uma conta com esse e-mail.", "There is already an account with that email."]),
    ("invalid_email", ["El correo no es válido.", "O e-mail não é válido.", "That is not an email address."]),
    ("change_language", ["Cambiar", "Mudar", "Change"]),
    ("weekly_hours", ["Horario semanal", "Horário semanal", "Weekly hours"]),
    ("no_hours", ["Sin horario: no se puede reservar.", "Sem horário: não se pode marcar.", "No hours: nothing can be booked."]),
    ("date_overrides", ["Días con otro horario", "Dias com outro horário", "Days with other hours"]),
    ("closed_all_day", ["cerrado todo el día", "fechado o dia todo", "closed all day"]),
    ("other_hours", ["Otro horario ese día", "Outro horário nesse dia", "Other hours that day"]),
    ("save", ["Guardar", "Salvar", "Save"]),
    ("time_off", ["Ausencias", "Ausências", "Time off"]),
    ("from", ["Desde", "De", "From"]),
    ("to", ["Hasta", "Até", "To"]),
    ("time", ["hora", "hora", "time"]),
    ("reason_optional", ["Motivo (opcional)", "Motivo (opcional)", "Reason (optional)"]),
    ("hours_overlap", ["Los horarios se superponen.", "Os horários se sobrepõem.", "The hours overlap."]),
    ("hours_unreadable", ["Revisá el día y los horarios (por ejemplo 09:00-12:00).", "Confira o dia e os horários (por exemplo 09:00-12:00).", "Check the day and the hours (for example 09:00-12:00)."]),
    ("range_backwards", ["El fin tiene que ser después del comienzo.", "O fim precisa ser depois do início.", "The end must come after the start."]),
    ("hours_and_time_off", ["Horarios y ausencias", "Horários e ausências", "Hours and time off"]),
    ("monday", ["Lunes", "Segunda", "Monday"]),
    ("tuesday", ["Martes", "Terça", "Tuesday"]),
    ("wednesday", ["Miércoles", "Quarta", "Wednesday"]),
    ("thursday", ["Jueves", "Quinta", "Thursday"]),
    ("friday", ["Viernes", "Sexta", "Friday"]),
    ("saturday", ["Sábado", "Sábado", "Saturday"]),
    ("sunday", ["Domingo", "Domingo", "Sunday"]),
    ("campaigns", ["Recordatorios", "Lembretes", "Campaigns"]),
    ("no_campaigns", ["Todavía no hay reglas de recordatorio (se crean por la API).", "Ainda não há regras de lembrete (são criadas pela API).", "No reminder rules yet (they are made through the API)."]),
    ("before_start", ["antes del turno:", "antes do horário:", "before the start:"]),
    ("after_end", ["después del turno:", "depois do horário:", "after the end:"]),
    ("on_event", ["al ocurrir", "quando ocorre", "on"]),
    ("send_now_for", ["Enviar ahora para el día", "Enviar agora para o dia", "Send now for the day"]),
    ("send_now", ["Enviar ahora", "Enviar agora", "Send now"]),
    ("runs", ["Envíos manuales", "Envios manuais", "Runs"]),
    ("messages", ["mensajes", "mensagens", "messages"]),
    ("past_day", ["Ese día ya pasó: no queda nadie a quien recordarle.", "Esse dia já passou: não há a quem lembrar.", "That day is past: there is nobody left to remind."]),
    ("outcome_sent", ["enviados", "enviadas", "sent"]),
    ("outcome_delivered", ["entregados", "entregues", "delivered"]),
    ("outcome_read", ["leídos", "lidas", "read"]),
    ("outcome_confirmed", ["confirmaron", "confirmaram", "confirmed"]),
    ("outcome_canceled", ["cancelaron", "cancelaram", "canceled"]),
    ("outcome_handed_over", ["pidieron una persona", "pediram uma pessoa", "handed over"]),
    ("outcome_no_answer", ["sin respuesta", "sem resposta", "no answer"]),
    ("outcome_missed", ["fuera de tiempo", "fora do prazo", "missed"]),
    ("outcome_planned", ["por enviar", "a enviar", "to be sent"]),
    ("outcome_failed", ["fallaron", "falharam", "failed"]),
    ("too_many_signins", ["Demasiados intentos desde esta conexión: esperá un momento.", "Tentativas demais desta conexão: espere um pouco.", "Too many attempts from this connection: wait a moment."]),
    ("channels", ["Canales", "Canais", "Channels"]),
    ("channel", ["Canal", "Canal", "Channel"]),
    ("connected", ["conectado", "conectado", "connected"]),
    ("not_connected", ["sin conectar", "não conectado", "not connected"]),
    ("sent_24h", ["Enviados (24 h)", "Enviadas (24 h)", "Sent (24 h)"]),
    ("failed_24h", ["Fallidos (24 h)", "Falhas (24 h)", "Failed (24 h)"]),
    ("asisteclick_calendars", ["agendas de AsisteClick", "agendas do AsisteClick", "AsisteClick calendars"]),
    ("availability_apis", ["Disponibilidad de otros sistemas", "Disponibilidade de outros sistemas", "Other systems' availability"]),
    ("reason", ["Motivo", "Motivo", "Reason"]),
    ("no_fallbacks", ["Siempre respondió a tiempo.", "Sempre respondeu a tempo.", "It always answered in time."]),
    ("no_availability_apis", ["Ninguna agenda consulta a otro sistema.", "Nenhuma agenda consulta outro sistema.", "No calendar asks another system."]),
    ("api_keys", ["Claves de la API", "Chaves da API", "API keys"]),
    ("api_keys_about", ["Para los sistemas que se conectan con turnero. Cada clave se muestra una sola vez.", "Para os sistemas que se conectam ao turnero. Cada chave é mostrada uma só vez.", "For the systems that talk to turnero. Each key is shown once."]),
    ("new_key", ["Clave nueva", "Chave nova", "New key"]),
    ("new_key_once", ["Copiala ahora: no se vuelve a mostrar.", "Copie agora: ela não é mostrada de novo.", "Copy it now: it is not shown again."]),
    ("key", ["Clave", "Chave", "Key"]),
    ("name", ["Nombre", "Nome", "Name"]),
    ("made", ["Creada", "Criada", "Made"]),
    ("last_used", ["Último uso", "Último uso", "Last used"]),
    ("revoke", ["Revocar", "Revogar", "Revoke"]),
    ("make_key", ["Crear una clave", "Criar uma chave", "Make a key"]),
    ("last_key", ["Es la última clave que funciona: creá otra antes de revocarla.", "É a última chave que funciona: crie outra antes de revogá-la.", "It is the last working key: make another before revoking it."]),
    ("key_name", ["Poné un nombre de hasta 100 caracteres.", "Dê um nome de até 100 caracteres.", "Give it a name of up to 100 characters."]),
    ("services", ["Servicios", "Serviços", "Services"]),
    ("lasts", ["Dura", "Duração", "Lasts"]),
    ("starts_every", ["Turnos cada", "Horários a cada", "Starts every"]),
    ("no_services", ["Todavía no hay servicios.", "Ainda não há serviços.", "No services yet."]),
    ("customers", ["Pacientes", "Pacientes", "Customers"]),
    ("find_customer", ["Teléfono o nombre", "Telefone ou nome", "Phone or name"]),
    ("find", ["Buscar", "Buscar", "Find"]),
    ("nobody_found", ["No se encontró a nadie.", "Ninguém foi encontrado.", "Nobody found."]),
    ("no_bookings", ["Sin turnos en los últimos seis meses ni por venir.", "Sem horários nos últimos seis meses nem futuros.", "No bookings in the last six months or ahead."]),
    ("new_rule", ["Nueva regla de recordatorio", "Nova regra de lembrete", "New reminder rule"]),
    ("rule_sent", ["Se envía", "É enviada", "Sent"]),
    ("amount", ["Cantidad", "Quantidade", "Amount"]),
    ("unit", ["Unidad", "Unidade", "Unit"]),
    ("days", ["días", "dias", "days"]),
    ("hours", ["horas", "horas", "hours"]),
    ("event_for_on", ["Evento (para «al ocurrir»)", "Evento (para «quando ocorre»)", "Event (for \"on\")"]),
    ("ask_confirmation", ["Pedir que confirme o cancele", "Pedir que confirme ou cancele", "Ask to confirm or cancel"]),
    ("whatsapp_template", ["Plantilla de WhatsApp (fuera de las 24 horas)", "Modelo do WhatsApp (fora das 24 horas)", "WhatsApp template (outside the 24 hours)"]),
    ("make_rule", ["Crear la regla", "Criar a regra", "Make the rule"]),
    ("stop_rule", ["Dejar de enviar", "Parar de enviar", "Stop sending"]),
    ("rule_when", ["Elegí cuánto antes o después (de 1 a 30).", "Escolha quanto antes ou depois (de 1 a 30).", "Choose how long before or after (1 to 30)."]),
    ("rule_name", ["Poné un nombre a la regla.", "Dê um nome à regra.", "Give the rule a name."]),
    ("rule_channels", ["Elegí al menos un canal.", "Escolha pelo menos um canal.", "Choose at least one channel."]),
    ("calendars", ["Agendas", "Agendas", "Calendars"]),
    ("new_service", ["Nuevo servicio", "Novo serviço", "New service"]),
    ("new_calendar", ["Nueva agenda", "Nova agenda", "New calendar"]),
    ("add", ["Agregar", "Adicionar", "Add"]),
    ("kind", ["Tipo", "Tipo", "Kind"]),
    ("kind_professional", ["profesional", "profissional", "professional"]),
    ("kind_room", ["consultorio o sala", "consultório ou sala", "room"]),
    ("kind_resource", ["equipo", "equipamento", "resource"]),
    ("settings_name", ["Poné un nombre (hasta 200 caracteres).", "Dê um nome (até 200 caracteres).", "Give it a name (up to 200 characters)."]),
    ("settings_zone", ["Ese huso horario no existe (por ejemplo America/Sao_Paulo).", "Esse fuso horário não existe (por exemplo America/Sao_Paulo).", "That time zone does not exist (for example America/Sao_Paulo)."]),
    ("settings_kind", ["Elegí un tipo de agenda.", "Escolha um tipo de agenda.", "Choose a kind of calendar."]),
    ("settings_minutes", ["Revisá los minutos.", "Confira os minutos.", "Check the minutes."]),
    ("correct_details", ["Corregir los datos", "Corrigir os dados", "Correct the details"]),
    ("phone_taken", ["Otro paciente ya tiene ese teléfono.", "Outro paciente já tem esse telefone.", "Another customer has that phone."]),
];

static INDEX: LazyLock<HashMap<&'static str, [&'static str; 3]>> =
    LazyLock::new(|| PHRASES.iter().copied().collect());

/// The phrases of one language.
#[derive(Debug, Clone, Copy)]
pub struct Words {
    column: usize,
}

pub fn of(locale: &str) -> Words {
    Words {
        column: match locale {
            "pt" => 1,
            "en" => 2,
            _ => 0,
        },
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
    /// The phrase, or its key when there is none (the test below keeps that from happening).
    pub fn get(&self, key: &'static str) -> &'static str {
        INDEX.get(key).map_or(key, |p| p[self.column])
    }

    /// As templates read it (`t.key`).
    pub fn value(self) -> Value {
        Value::from_object(self)
    }

    /// The agenda's refusal as staff read it: its stable code in their language, or its own
    /// (English) detail for a code without words here.
    pub fn refusal(&self, code: &str, detail: &str) -> String {
        match code {
            "slot_unavailable" => self.get("slot_taken"),
            "outside_hours" => self.get("closed_then"),
            "outside_booking_window" => self.get("outside_window"),
            "invalid_phone" => self.get("bad_phone"),
            "invalid_transition" => self.get("bad_change"),
            "not_started" => self.get("not_started"),
            _ => detail,
        }
        .to_string()
    }

    /// A booking status as staff read it.
    pub fn status(&self, status: &str) -> &'static str {
        match status {
            "held" => self.get("held"),
            "pending" => self.get("pending"),
            "confirmed" => self.get("confirmed"),
            "completed" => self.get("completed"),
            "no_show" => self.get("no_show"),
            "canceled" => self.get("canceled"),
            _ => self.get("expired"),
        }
    }
}

impl Object for Words {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let phrase = INDEX.get(key.as_str()?)?;
        Some(Value::from(phrase[self.column]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_phrase_a_template_reads_is_written_in_all_three_languages() {
        let mut missing = Vec::new();
        for (name, source) in super::super::TEMPLATES {
            let mut rest = *source;
            while let Some(at) = rest.find("t.") {
                let before = rest[..at].chars().last();
                rest = &rest[at + 2..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                    continue;
                }
                let key: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !key.is_empty() && !INDEX.contains_key(key.as_str()) {
                    missing.push(format!("{name}: t.{key}"));
                }
            }
        }
        assert!(missing.is_empty(), "phrases missing: {missing:?}");
        for (key, p) in PHRASES {
            assert!(p.iter().all(|s| !s.is_empty()), "{key} has an empty phrase");
        }
        assert_eq!(INDEX.len(), PHRASES.len(), "a key is written twice");
    }
}
