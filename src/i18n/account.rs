//! Texts of the customer account pages: key, then en, de, es, pt, zh.

pub const ENTRIES: &[(&str, [&str; 5])] = &[
    (
        "mail.verify.subject",
        [
            "Please confirm your e-mail address",
            "Bitte bestätigen Sie Ihre E-Mail-Adresse",
            "Confirme su dirección de correo electrónico",
            "Confirme seu endereço de e-mail",
            "请确认您的电子邮箱地址",
        ],
    ),
    (
        "mail.verify.body",
        [
            "Welcome! Please confirm your e-mail address by opening this link:",
            "Willkommen! Bitte bestätigen Sie Ihre E-Mail-Adresse über diesen Link:",
            "¡Bienvenido! Confirme su dirección de correo electrónico abriendo este enlace:",
            "Bem-vindo! Confirme seu endereço de e-mail abrindo este link:",
            "欢迎！请打开以下链接确认您的电子邮箱地址：",
        ],
    ),
    (
        "mail.reset.subject",
        [
            "Reset your password",
            "Passwort zurücksetzen",
            "Restablecer su contraseña",
            "Redefinir sua senha",
            "重置您的密码",
        ],
    ),
    (
        "mail.reset.body",
        [
            "Someone asked to reset the password of your account. If it was you, open this link within an hour; otherwise ignore this message:",
            "Jemand möchte das Passwort Ihres Kontos zurücksetzen. Wenn Sie das waren, öffnen Sie diesen Link innerhalb einer Stunde; sonst ignorieren Sie diese Nachricht:",
            "Alguien pidió restablecer la contraseña de su cuenta. Si fue usted, abra este enlace en menos de una hora; si no, ignore este mensaje:",
            "Alguém pediu para redefinir a senha da sua conta. Se foi você, abra este link em até uma hora; caso contrário, ignore esta mensagem:",
            "有人请求重置您账户的密码。如果是您本人，请在一小时内打开此链接；否则请忽略此邮件：",
        ],
    ),
];
